"""The database engine: one async SQLAlchemy engine (asyncpg) per process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.settings import Settings, get_settings

_engine: AsyncEngine | None = None


def make_engine(url: str, settings: Settings | None = None) -> AsyncEngine:
    """Create an engine with the project's pool and session settings."""
    settings = settings or get_settings()
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # Statements are short; a stuck lock should surface as an error, not a hang.
        connect_args={"server_settings": {"application_name": "bss", "lock_timeout": "5s"}},
    )


def get_engine(settings: Settings | None = None) -> AsyncEngine:
    """Return the process-wide engine, creating it from settings on first use."""
    global _engine
    if _engine is None:
        settings = settings or get_settings()
        _engine = make_engine(settings.sqlalchemy_url(), settings)
    return _engine


@asynccontextmanager
async def raw_connection() -> AsyncIterator[asyncpg.Connection]:
    """Check out a pooled connection and hand over its asyncpg connection (hot paths, plain SQL).

    SQLAlchemy's per-statement work (cache key, execution context, result rows) costs more than the
    round trip itself on a hot read; the pool, its limits and its reset on return stay SQLAlchemy's.
    No transaction is open: a caller that needs one uses `conn.transaction()`.
    """
    async with get_engine().connect() as pooled:
        yield (await pooled.get_raw_connection()).driver_connection


def use_engine(engine: AsyncEngine | None) -> None:
    """Install `engine` as the process-wide engine (tests point it at their own database)."""
    global _engine
    _engine = engine


async def dispose_engines() -> None:
    """Close every pooled connection (process shutdown)."""
    global _engine
    if _engine is not None:
        await _engine.dispose()
        _engine = None
