"""Health endpoint for the supervisor and load balancers (no token needed)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from apis.routing import BssRouter
from core.db import get_engine
from core.scopes import Scope

router = BssRouter()


@router.get("/health", scope=Scope.HEALTH, include_in_schema=False)
async def health(request: Request) -> JSONResponse:
    """Report whether the API can reach its database."""
    try:
        async with get_engine().connect() as conn:
            await conn.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # health must answer, whatever is down
        database = f"down: {exc.__class__.__name__}"
    ok = database == "ok"
    body = {"status": "ok" if ok else "degraded", "database": database,
            "temporal": "connected" if request.app.state.temporal.connected else "lazy"}
    return JSONResponse(body, status_code=200 if ok else 503)
