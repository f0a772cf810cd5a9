"""Routers whose every route declares the scope it needs, and the route class that enforces it.

A route is declared with its scope next to its path (`@router.get("/customer/{customer_id}",
scope=Scope.CUSTOMER_READ)`); a list that a customer may see also names the filter that keeps it to
that customer (`owner_filter="relatedParty.id"`). The declaration is kept in the route's OpenAPI
extension (`x-bss-scope`, `x-bss-owner-filter`), so `/openapi.json` documents it too.

`GuardedRoute` checks every call before FastAPI reads the body: the scope (403 `auth.scope.denied`),
then, for a call on behalf of a customer, that everything it names belongs to that customer
(apis/ownership.py, 404 as if absent). A route without a declaration refuses every call.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import Match, get_route_path
from starlette.types import Scope as AsgiScope

from apis import ownership
from core import context
from core.errors import Forbidden, PolicyViolation, Violation
from core.scopes import ALWAYS_BOUND, UNBOUND_SCOPES, Scope

SCOPE_KEY = "x-bss-scope"
OWNER_FILTER_KEY = "x-bss-owner-filter"
OWNER_VALUE_KEY = "x-bss-owner-value"
OwnerValue = Literal["customer", "individual"]
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass(frozen=True)
class Access:
    """What a route declared: the scope it needs and, for a list, the filter that binds it to a customer."""

    scope: Scope | None
    owner_filter: str | None = None
    owner_value: OwnerValue = "customer"


def access_of(route: APIRoute) -> Access:
    """The access a route declared (scope None when it declared nothing)."""
    extra = route.openapi_extra or {}
    scope = extra.get(SCOPE_KEY)
    return Access(Scope(scope) if scope else None, extra.get(OWNER_FILTER_KEY), extra.get(OWNER_VALUE_KEY, "customer"))


def denied(scope: Scope | None) -> Forbidden:
    """The refusal of a call outside its surface's scopes."""
    ctx = context.current()
    wanted = scope.value if scope else None
    message = (f"the '{ctx.channel}' surface may not call this route (it needs scope '{wanted}')" if scope
               else "this route declares no scope, so no surface may call it")
    return Forbidden("auth.scope.denied", message, {"scope": wanted, "surface": ctx.channel,
                                                    "onBehalfOf": ctx.on_behalf_of})


class GuardedRoute(APIRoute):
    """An `APIRoute` that lets a call reach its handler only within the caller's scopes and binding."""

    def get_route_handler(self) -> Handler:
        """FastAPI's handler, behind the scope check and the customer binding."""
        handler = super().get_route_handler()
        access = access_of(self)
        customer_bound = access.scope not in UNBOUND_SCOPES  # decided once per route, not per call

        async def guarded(request: Request) -> Response:
            ctx = context.current()
            if access.scope is None or access.scope not in ctx.scopes:
                raise denied(access.scope)
            if ctx.on_behalf_of is not None and customer_bound:
                await _bind(request, access, ctx.on_behalf_of)
            elif ctx.on_behalf_of is None and customer_bound and ctx.channel in ALWAYS_BOUND:
                raise Forbidden("auth.on_behalf_of.required",
                                f"the '{ctx.channel}' surface must name the customer it acts for (X-BSS-On-Behalf-Of)",
                                {"scope": access.scope.value, "surface": ctx.channel})
            return await handler(request)

        return guarded


async def _bind(request: Request, access: Access, customer_id: str) -> None:
    """Keep a bound call to `customer_id`'s own resources (404 for anything else) and lists to their rows."""
    named = ownership.path_ids(request.path_params)
    if request.method in ("POST", "PUT", "PATCH"):
        named += ownership.body_ids(await request.body())
    if named:
        await ownership.require_owned(named, customer_id)
    if access.owner_filter is not None:
        value = customer_id if access.owner_value == "customer" else await ownership.individual_of(customer_id)
        request.scope[ownership.LIST_OWNER] = (access.owner_filter, value)
    elif not named:
        # Fail closed: a call that names nothing of the customer's could reach anyone's data by other keys.
        raise PolicyViolation(Violation(
            "auth.on_behalf_of.unreferenced",
            f"a call on behalf of {customer_id} must name the customer or one of its resources",
            {"onBehalfOf": customer_id, "path": request.url.path}))


class BssRouter(APIRouter):
    """An `APIRouter` of guarded routes, each declaring its scope, that skips paths outside its prefix.

    FastAPI matches a request by asking every included router, and each router tries each of its
    routes' regular expressions: ~130 routes per request, ≈ 12 % of a cheap GET's CPU. Every route of
    a router lives under the router's prefix, so checking the prefix first changes no match.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(route_class=GuardedRoute, **kwargs)

    def matches(self, scope: AsgiScope) -> tuple[Match, AsgiScope]:
        """No match outside the prefix; FastAPI's own matching inside it."""
        if self.prefix and not get_route_path(scope).startswith(self.prefix):
            return Match.NONE, {}
        return super().matches(scope)

    def get(self, path: str, *, scope: Scope, owner_filter: str | None = None,  # type: ignore[override]
            owner_value: OwnerValue = "customer", **kwargs: Any) -> Callable:
        """A GET route needing `scope`; a list names the `owner_filter` that binds it to a customer."""
        return super().get(path, openapi_extra=_declared(scope, owner_filter, owner_value), **kwargs)

    def post(self, path: str, *, scope: Scope, **kwargs: Any) -> Callable:  # type: ignore[override]
        """A POST route needing `scope`."""
        return super().post(path, openapi_extra=_declared(scope), **kwargs)

    def put(self, path: str, *, scope: Scope, **kwargs: Any) -> Callable:  # type: ignore[override]
        """A PUT route needing `scope`."""
        return super().put(path, openapi_extra=_declared(scope), **kwargs)

    def patch(self, path: str, *, scope: Scope, **kwargs: Any) -> Callable:  # type: ignore[override]
        """A PATCH route needing `scope`."""
        return super().patch(path, openapi_extra=_declared(scope), **kwargs)

    def delete(self, path: str, *, scope: Scope, **kwargs: Any) -> Callable:  # type: ignore[override]
        """A DELETE route needing `scope`."""
        return super().delete(path, openapi_extra=_declared(scope), **kwargs)


def _declared(scope: Scope, owner_filter: str | None = None, owner_value: OwnerValue = "customer") -> dict[str, Any]:
    extra: dict[str, Any] = {SCOPE_KEY: scope.value}
    if owner_filter is not None:
        extra[OWNER_FILTER_KEY] = owner_filter
        if owner_value != "customer":
            extra[OWNER_VALUE_KEY] = owner_value
    return extra
