"""Authorization over real HTTP: every route × every surface from the app's own route table, fail-closed
routes, identity headers, and the audit row that names the real surface and token.

The matrix expects what `core.scopes` and each route's declaration say, so a route added without a
declaration, or with one a surface should not hold, fails here.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import text

from apis.app import _refuse_unguarded, api_routes, create_app
from apis.errors import install_error_handlers
from apis.perimeter import TokenPerimeter
from apis.routing import BssRouter, GuardedRoute, access_of
from core.scopes import UNBOUND_SCOPES, Scope, Surface, scopes_for
from core.settings import get_settings
from core.tokens import TokenRegistry
from domain.metadata import metadata
from tests.conftest import TEST_TOKENS, client_for

SOMEONE = "CUST-999999"  # a well-formed binding to nobody: every resource check must fail closed
PING = "/bss-api/v1/diagnostics/ping"


def _routes() -> list[tuple[str, str, Scope | None]]:
    app = create_app()
    return sorted({(method, route.path, access_of(route).scope)
                   for route in api_routes(app) for method in route.methods - {"HEAD"}})


ROUTES = _routes()
CALLERS = [(surface, None) for surface in Surface] + [(Surface.SELF_SERVE, SOMEONE), (Surface.AGENT, SOMEONE)]


def expected(surface: Surface, bound: str | None, scope: Scope | None) -> str:
    """'denied', 'unbound' (self-serve without a binding) or 'allowed'."""
    if scope is None or scope not in scopes_for(surface, bound is not None):
        return "denied"
    if surface == Surface.SELF_SERVE and bound is None and scope not in UNBOUND_SCOPES:
        return "unbound"
    return "allowed"


async def table_counts(db) -> dict[str, int]:
    """Rows in every table of every schema (domain and audit)."""
    import domain.tables  # noqa: F401 - registers every table on the metadata

    async with db.connect() as conn:
        return {t.fullname: (await conn.execute(text(f'SELECT count(*) FROM {t.schema}."{t.name}"'))).scalar_one()
                for t in metadata.sorted_tables}


def test_every_route_is_guarded_and_declares_a_scope():
    app = create_app()
    undeclared = [(sorted(r.methods), r.path) for r in api_routes(app)
                  if not isinstance(r, GuardedRoute) or access_of(r).scope is None]
    assert undeclared == []
    assert len(ROUTES) > 100


async def test_every_route_answers_every_surface_as_its_declaration_says(api_url, seeded_db):
    before = await table_counts(seeded_db)
    tally = {"denied": 0, "unbound": 0, "allowed": 0}
    for surface, bound in CALLERS:
        headers = {"X-BSS-On-Behalf-Of": bound} if bound else {}
        async with httpx.AsyncClient(base_url=api_url, timeout=30,
                                     headers={"X-BSS-API-Token": TEST_TOKENS[surface.value], **headers}) as client:
            for method, path, scope in ROUTES:
                # Writes carry a body that is not JSON, so a call that passes authorization stops at 400.
                body = b"{" if method in ("POST", "PUT", "PATCH") else None
                response = await client.request(method, re.sub(r"\{[^}]+\}", "ROUTE-CHECK-1", path), content=body,
                                                headers={"Content-Type": "application/json"})
                want = expected(surface, bound, scope)
                tally[want] += 1
                where = (surface.value, bound, method, path, response.status_code, response.text[:200])
                if want == "denied":
                    assert response.status_code == 403, where
                    error = response.json()
                    assert (error["@type"], error["code"], error["status"]) == ("Error", "auth.scope.denied", "403"), where
                    assert error["context"]["scope"] == (scope.value if scope else None), where
                elif want == "unbound":
                    assert response.status_code == 403 and response.json()["code"] == "auth.on_behalf_of.required", where
                else:
                    assert response.status_code not in (401, 403, 500), where
    assert await table_counts(seeded_db) == before, "a refused or malformed call wrote rows"
    assert min(tally.values()) >= 40, tally  # each kind of answer was exercised, many times


async def test_a_route_without_a_declaration_refuses_every_surface():
    router = BssRouter()

    async def undeclared() -> dict:
        return {"reached": True}

    router.add_api_route("/undeclared", undeclared, methods=["GET"])  # no scope: nobody may call it
    app = FastAPI()
    app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(TokenPerimeter, registry=TokenRegistry.from_settings(get_settings()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bss") as client:
        for surface in Surface:
            response = await client.get("/undeclared", headers={"X-BSS-API-Token": TEST_TOKENS[surface.value]})
            assert response.status_code == 403 and response.json()["code"] == "auth.scope.denied", response.text
            assert response.json()["context"]["scope"] is None


def test_an_app_with_a_route_outside_the_guarded_routers_is_refused():
    async def loose() -> None:
        return None

    app = FastAPI()
    app.add_api_route("/loose", loose, methods=["GET"])
    assert isinstance(app.router.routes[-1], APIRoute)
    with pytest.raises(RuntimeError, match="escape authorization"):
        _refuse_unguarded(app)


@pytest.mark.parametrize("surface", ["portal-self-serve", "system"])
async def test_surfaces_that_do_not_log_people_in_cannot_name_an_actor(api_url, db, worker, surface):
    before = await table_counts(db)
    async with client_for(api_url, surface, **{"X-BSS-Actor": "csr-anna"}) as client:
        response = await client.post(PING, json={"note": "a ping system may send, but not as a person"})
    assert response.status_code == 403 and response.json()["code"] == "auth.actor.not_allowed", response.text
    assert await table_counts(db) == before


async def test_a_bound_call_cannot_name_an_actor(api_url, db):
    async with client_for(api_url, "agent", **{"X-BSS-Actor": "agent-session-7",
                                               "X-BSS-On-Behalf-Of": SOMEONE}) as client:
        response = await client.get("/tmf-api/customerManagement/v4/customer")
    assert response.status_code == 403 and response.json()["code"] == "auth.actor.not_allowed"


@pytest.mark.parametrize("value", ["SUB-000001", "CUST-", "cust-1", "CUST-1; DROP", "x" * 300])
async def test_a_malformed_binding_is_400(api_url, db, value):
    async with client_for(api_url, "portal-self-serve", **{"X-BSS-On-Behalf-Of": value}) as client:
        response = await client.get("/tmf-api/customerManagement/v4/customer")
    assert response.status_code == 400 and response.json()["code"] == "auth.on_behalf_of.malformed"


async def test_a_forged_actor_still_leaves_the_real_surface_and_token_in_the_audit_row(api_url, db, worker):
    async with client_for(api_url, "portal-csr:next", **{"X-BSS-Actor": "the-ceo"}) as client:
        response = await client.post(PING, json={"note": "who am i"})
    assert response.status_code == 201, response.text
    async with db.connect() as conn:
        row = (await conn.execute(text(
            "SELECT actor, channel, service_identity FROM audit.domain_event WHERE aggregate_id = :a ORDER BY id"),
            {"a": response.json()["pingId"]})).first()
    assert tuple(row) == ("the-ceo", "portal-csr", "portal-csr:next")


async def test_both_tokens_of_a_surface_are_valid_during_a_rotation(api_url, db):
    for name in ("portal-csr", "portal-csr:next"):
        async with client_for(api_url, name) as client:
            assert (await client.get("/tmf-api/customerManagement/v4/customer")).status_code == 200
    async with client_for(api_url, "portal-csr") as client:
        wrong = await client.get("/tmf-api/customerManagement/v4/customer",
                                 headers={"X-BSS-API-Token": TEST_TOKENS["portal-csr:next"][:-1] + "x"})
    assert wrong.status_code == 401
