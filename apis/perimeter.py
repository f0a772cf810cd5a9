"""The token perimeter: every request names its surface with `X-BSS-API-Token`.

A pure ASGI middleware (not `BaseHTTPMiddleware`) so the request context it binds is visible
to the endpoint and everything it calls, and so it adds no task hop per request.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from apis.errors import tmf_error
from core import context
from core.context import RequestContext
from core.tokens import TokenRegistry

TOKEN_HEADER = b"x-bss-api-token"
ACTOR_HEADER = b"x-bss-actor"
OPEN_PATHS = ("/health", "/docs", "/openapi.json")


class TokenPerimeter:
    """Reject requests without a known token; bind actor, channel and service identity."""

    def __init__(self, app: ASGIApp, registry: TokenRegistry) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(OPEN_PATHS):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        token = headers.get(TOKEN_HEADER, b"").decode("latin-1")
        surface = self.registry.surface_of(token)
        if surface is None:
            response = tmf_error(401, "auth.token_invalid", "Unauthorized",
                                 "a valid X-BSS-API-Token header is required")
            await response(scope, receive, send)
            return
        actor = headers.get(ACTOR_HEADER, b"").decode("utf-8", "replace")[:120] or surface
        ctx = RequestContext(actor=actor, channel=surface, service_identity=surface)
        token_ref = context.bind(ctx)
        try:
            await self.app(scope, receive, send)
        finally:
            context.reset(token_ref)
