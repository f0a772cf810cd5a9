"""The API app factory: routers, perimeter, error mapping, tracing, lifespan."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from temporalio.client import Client

import apis
from apis.catalog_cache import CatalogCache
from apis.errors import install_error_handlers
from apis.limits import BodyLimit
from apis.perimeter import TokenPerimeter
from apis.read_sampling import ReadSampling, UnsampledReads
from apis.routing import GuardedRoute
from apis.temporal_gateway import TemporalGateway
from core.db import dispose_engines
from core.settings import Settings, get_settings
from core.telemetry import instrument_sqlalchemy, setup_tracing
from core.tokens import TokenRegistry


def routers() -> list[APIRouter]:
    """Every `router` defined by a module of the apis package (one module per API), by name."""
    found = []
    for info in sorted(pkgutil.iter_modules(apis.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"apis.{info.name}")
        if hasattr(module, "router"):
            found.append(module.router)
    return found


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every API route of `app`, through the routers it includes."""
    found: list[APIRoute] = []
    pending: list[Any] = list(app.router.routes)
    while pending:
        route = pending.pop(0)
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # an included router (FastAPI keeps it whole)
            pending.extend(route.original_router.routes)
    return found


def _refuse_unguarded(app: FastAPI) -> None:
    """Refuse to build an app with an API route that would bypass the scope check."""
    unguarded = [f"{sorted(r.methods)} {r.path}" for r in api_routes(app) if not isinstance(r, GuardedRoute)]
    if unguarded:
        raise RuntimeError(f"routes outside apis.routing.BssRouter escape authorization: {unguarded}")


def _untraced(scope: dict[str, Any]) -> bool:
    return scope.get("path") == "/health"


# FastAPI's own request tracing: one server span per request, renamed to "METHOD /route" once routing
# picked the route. It replaces the contrib instrumentor, which walked the whole route table again per
# request to name the span and added `receive`/`send` spans (≈ 25 % of a cheap request's CPU).
# Metrics and log records stay off: nothing in the stack collects them. `exclude` is completed per app
# with the read sampling (apis/read_sampling.py).
TELEMETRY = {"tracing": True, "metrics": False, "logs": False, "operation_spans": False, "exclude": _untraced}


def _telemetry(sampling: ReadSampling) -> dict[str, Any]:
    """FastAPI's telemetry settings, leaving out /health and the reads `sampling` does not trace."""
    return {**TELEMETRY, "exclude": lambda scope: _untraced(scope) or sampling.leave_out(scope)}


def create_app(settings: Settings | None = None, temporal_client: Client | None = None) -> FastAPI:
    """Build the BSS API; tests pass their own Temporal client, processes connect lazily."""
    settings = settings or get_settings()
    setup_tracing("bss-api", settings)
    instrument_sqlalchemy()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        follower = None
        if settings.time_skipping:
            from activities.stack_clock import OffsetFollower

            follower = OffsetFollower(settings)
            await follower.start()
        yield
        await app.state.catalog_cache.close()
        if follower is not None:
            await follower.stop()
        if temporal_client is None:
            await dispose_engines()

    sampling = ReadSampling(settings.trace_read_sample_ratio, settings.trace_read_slow_ms)
    app = FastAPI(title="BSS-CLI API", version="0.1.0", lifespan=lifespan,
                  docs_url="/docs", redoc_url=None, telemetry=_telemetry(sampling))
    app.state.settings = settings
    app.state.catalog_cache = CatalogCache()
    app.state.temporal = TemporalGateway(temporal_client, time_skipping=settings.time_skipping)
    for router in routers():
        app.include_router(router)
    _refuse_unguarded(app)
    install_error_handlers(app)
    app.add_middleware(TokenPerimeter, registry=TokenRegistry.from_settings(settings))
    app.add_middleware(BodyLimit, max_bytes=settings.request_max_body_bytes)  # before the token: no read at all
    app.add_middleware(UnsampledReads, sampling=sampling)  # outermost: it sees the perimeter's 401s too
    return app
