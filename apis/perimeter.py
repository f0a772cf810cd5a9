"""The token perimeter: every request names its surface with `X-BSS-API-Token`.

It answers who is calling and for whom; what the call may do is each route's declaration, checked
by `apis.routing.GuardedRoute` once the route is known. A pure ASGI middleware (not
`BaseHTTPMiddleware`) so the request context it binds is visible to the endpoint and everything it
calls, and so it adds no task hop per request.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from apis.errors import tmf_error
from core import context
from core.context import RequestContext
from core.scopes import ACTOR_SURFACES, scopes_for
from core.tokens import Credential, TokenRegistry

TOKEN_HEADER = b"x-bss-api-token"
ACTOR_HEADER = b"x-bss-actor"
ON_BEHALF_OF_HEADER = b"x-bss-on-behalf-of"
SESSION_HEADER = b"x-bss-session"
SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")  # domain.agent.SESSION_ID
OPEN_PATHS = ("/health", "/docs", "/openapi.json")
CUSTOMER_ID = re.compile(r"CUST-\d{1,18}")
MAX_ACTOR = 120


class TokenPerimeter:
    """Reject requests without a known token; bind actor, surface, token name, scopes and customer."""

    def __init__(self, app: ASGIApp, registry: TokenRegistry) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(OPEN_PATHS):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        credential = self.registry.credential_of(headers.get(TOKEN_HEADER, b"").decode("latin-1"))
        if credential is None:
            response = tmf_error(401, "auth.token_invalid", "Unauthorized",
                                 "a valid X-BSS-API-Token header is required")
            await response(scope, receive, send)
            return
        ctx = _context(credential, headers.get(ACTOR_HEADER), headers.get(ON_BEHALF_OF_HEADER),
                       headers.get(SESSION_HEADER))
        if not isinstance(ctx, RequestContext):
            await ctx(scope, receive, send)
            return
        token_ref = context.bind(ctx)
        try:
            await self.app(scope, receive, send)
        finally:
            context.reset(token_ref)


def _context(credential: Credential, actor_header: bytes | None, bound_header: bytes | None,
             session_header: bytes | None = None):
    """The request context of a call, or the TMF error that refuses its identity headers."""
    surface = credential.surface
    bound = bound_header.decode("latin-1").strip() if bound_header is not None else None
    if bound is not None and not CUSTOMER_ID.fullmatch(bound):
        return tmf_error(400, "auth.on_behalf_of.malformed", "Bad request",
                         "X-BSS-On-Behalf-Of must be a customer id (CUST-…)", context={"onBehalfOf": bound[:40]})
    asserted = actor_header.decode("utf-8", "replace").strip()[:MAX_ACTOR] if actor_header else ""
    if asserted and (surface not in ACTOR_SURFACES or bound):
        # A person named by a surface that does not log people in, or over a customer's binding, is not believed.
        why = "a call on behalf of a customer acts as that customer" if bound else \
            f"the '{surface.value}' surface does not authenticate people"
        return tmf_error(403, "auth.actor.not_allowed", "Forbidden", f"X-BSS-Actor is refused: {why}",
                         context={"surface": surface.value, "onBehalfOf": bound})
    session = session_header.decode("latin-1").strip() if session_header is not None else None
    if session is not None:
        # The agent session a call belongs to goes on its audit rows; only a surface that logs people in names one.
        if surface not in ACTOR_SURFACES:
            return tmf_error(403, "auth.session.not_allowed", "Forbidden",
                             f"X-BSS-Session is refused: the '{surface.value}' surface does not run agent sessions",
                             context={"surface": surface.value})
        if not SESSION_ID.fullmatch(session):
            return tmf_error(400, "auth.session.malformed", "Bad request",
                             "X-BSS-Session must be a session id (letters, digits, _.:-, at most 64)",
                             context={"session": session[:40]})
    return RequestContext(actor=bound or asserted or surface.value, channel=surface.value,
                          service_identity=credential.name, scopes=scopes_for(surface, bound is not None),
                          on_behalf_of=bound, session_id=session or None)
