"""Alembic environment: async (asyncpg) migrations against the URL the runner passes in."""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

import domain.tables  # noqa: F401  (registers every table on the metadata)
from domain.metadata import metadata

config = context.config


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, include_schemas=True,
                      transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    engine = create_async_engine(config.get_main_option("sqlalchemy.url"))
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


asyncio.run(_main())
