"""Create the application database if needed and bring it to the latest migration."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(sqlalchemy_url: str) -> Config:
    """Return an Alembic config pointed at `sqlalchemy_url`."""
    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url.replace("%", "%%"))
    return cfg


async def ensure_database(sqlalchemy_url: str) -> bool:
    """Create the database named in the URL when it does not exist; True if created."""
    import asyncpg

    url = make_url(sqlalchemy_url)
    admin_dsn = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", url.database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{url.database}"')
        return not exists
    finally:
        await conn.close()


def upgrade(sqlalchemy_url: str, revision: str = "heads") -> None:
    """Run every pending migration of every domain branch (synchronous; Alembic runs its own loop)."""
    asyncio.run(ensure_database(sqlalchemy_url))
    command.upgrade(alembic_config(sqlalchemy_url), revision)
