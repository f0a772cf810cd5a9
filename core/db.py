"""The database engine: one async SQLAlchemy engine (asyncpg) per process, and a plain asyncpg pool beside it for hot reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.settings import Settings, get_settings

_engine: AsyncEngine | None = None
# The hot-read pool, with the engine it was made for: it follows `use_engine` to the same database.
_raw: tuple[AsyncEngine, asyncpg.Pool] | None = None
# Session settings every connection of ours gets (see make_engine); the hot-read pool's connections
# name themselves apart in pg_stat_activity.
SERVER_SETTINGS = {"application_name": "bss", "lock_timeout": "5s"}
READ_POOL_NAME = "bss-reads"


def make_engine(url: str, settings: Settings | None = None) -> AsyncEngine:
    """Create an engine with the project's pool and session settings."""
    settings = settings or get_settings()
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # Statements are short; a stuck lock should surface as an error, not a hang.
        connect_args={"server_settings": SERVER_SETTINGS},
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
    """Lease a connection of the hot-read pool (plain SQL through asyncpg, no transaction open).

    A SQLAlchemy checkout costs ~250 µs of CPU (pool events, the connection fairy, a greenlet hop),
    three times the round trip it serves on a hot read; an asyncpg pool lease costs ~80 µs. The pool
    is made for the current engine's database and holds at most `db_pool_size` connections. A
    caller that needs a transaction uses `conn.transaction()`.
    """
    async with (await _raw_pool()).acquire() as conn:
        yield conn


async def _keep_session(_: asyncpg.Connection) -> None:
    """Nothing to reset on release: hot reads change no session state (asyncpg still rolls back an open transaction)."""


def asyncpg_dsn(engine: AsyncEngine) -> str:
    """The plain asyncpg DSN of a SQLAlchemy asyncpg engine's database (for connections of our own)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _raw_pool() -> asyncpg.Pool:
    global _raw
    engine = get_engine()
    if _raw is not None and _raw[0] is engine:
        return _raw[1]
    pool = await asyncpg.create_pool(asyncpg_dsn(engine), min_size=0,
                                     max_size=get_settings().db_pool_size, reset=_keep_session,
                                     server_settings={**SERVER_SETTINGS, "application_name": READ_POOL_NAME})
    if _raw is not None and _raw[0] is engine:  # another request made one meanwhile
        await pool.close()
        return _raw[1]
    previous, _raw = _raw, (engine, pool)
    if previous is not None:
        previous[1].terminate()
    return pool


def use_engine(engine: AsyncEngine | None) -> None:
    """Install `engine` as the process-wide engine (tests point it at their own database)."""
    global _engine, _raw
    _engine = engine
    if _raw is not None:  # its connections hold the previous database open
        _raw[1].terminate()
        _raw = None


async def dispose_engines() -> None:
    """Close every pooled connection (process shutdown)."""
    global _engine, _raw
    if _raw is not None:
        await _raw[1].close()
        _raw = None
    if _engine is not None:
        await _engine.dispose()
        _engine = None
