"""The whole stack inside one process, for benches: PostgreSQL, time-skipping Temporal, every worker, the API.

The parts are the suite's own (an embedded PostgreSQL from tests/support/pg.py, migrated and seeded;
the time-skipping dev server from tests/support/temporal.py; a worker per task queue; the API on
uvicorn in this loop), so a bench measures what the tests exercise.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True)
class InProcessStack:
    """What a bench talks to: the API's URL, the Temporal environment, the database engine and server."""

    url: str
    env: Any  # temporalio.testing.WorkflowEnvironment
    engine: AsyncEngine
    pg: Any  # tests.support.pg.PgServer


@asynccontextmanager
async def in_process_stack(database: str, **serve_options: Any) -> AsyncIterator[InProcessStack]:
    """Start every part in this process (`serve_options` go to the API's uvicorn); stop them all on the way out."""
    from activities.seed import seed_reference_data
    from apis.app import create_app
    from core import db as core_db
    from core.inloop_http import serve
    from migrations.runner import upgrade
    from tests.support.pg import start_pg_server
    from tests.support.temporal import start_env
    from workers.factory import build_workers
    from workers.registry import REGISTRY

    pg = await asyncio.to_thread(start_pg_server)
    env = None
    try:
        await pg.execute(f'CREATE DATABASE "{database}"')
        await asyncio.to_thread(upgrade, pg.sqlalchemy_url(database))
        engine = core_db.make_engine(pg.sqlalchemy_url(database))
        core_db.use_engine(engine)
        await seed_reference_data()
        env = await start_env()
        workers = build_workers(env.client, list(REGISTRY))
        running = [asyncio.create_task(w.run()) for w in workers]
        try:
            async with serve(create_app(temporal_client=env.client), **serve_options) as url:
                yield InProcessStack(url=url, env=env, engine=engine, pg=pg)
        finally:
            await asyncio.gather(*(w.shutdown() for w in workers))
            await asyncio.gather(*running, return_exceptions=True)
            await engine.dispose()
    finally:
        if env is not None:
            await env.shutdown()
        pg.stop()
