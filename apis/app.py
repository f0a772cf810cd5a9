"""The API app factory: routers, perimeter, error mapping, tracing, lifespan."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from temporalio.client import Client

import apis
from apis.errors import install_error_handlers
from apis.perimeter import TokenPerimeter
from apis.temporal_gateway import TemporalGateway
from core.db import dispose_engines
from core.settings import Settings, get_settings
from core.telemetry import instrument_sqlalchemy, setup_tracing
from core.tokens import TokenRegistry


def routers() -> list:
    """Every `router` defined by a module of the apis package (one module per API), by name."""
    found = []
    for info in sorted(pkgutil.iter_modules(apis.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"apis.{info.name}")
        if hasattr(module, "router"):
            found.append(module.router)
    return found


def _untraced(scope: dict[str, Any]) -> bool:
    return scope.get("path") == "/health"


# FastAPI's own request tracing: one server span per request, renamed to "METHOD /route" once routing
# picked the route. It replaces the contrib instrumentor, which walked the whole route table again per
# request to name the span and added `receive`/`send` spans (≈ 25 % of a cheap request's CPU).
# Metrics and log records stay off: nothing in the stack collects them.
TELEMETRY = {"tracing": True, "metrics": False, "logs": False, "operation_spans": False, "exclude": _untraced}


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
        if follower is not None:
            await follower.stop()
        if temporal_client is None:
            await dispose_engines()

    app = FastAPI(title="BSS-CLI API", version="0.1.0", lifespan=lifespan,
                  docs_url="/docs", redoc_url=None, telemetry=TELEMETRY)
    app.state.settings = settings
    app.state.temporal = TemporalGateway(temporal_client, time_skipping=settings.time_skipping)
    for router in routers():
        app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(TokenPerimeter, registry=TokenRegistry.from_settings(settings))
    return app
