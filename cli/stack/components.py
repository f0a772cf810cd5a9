"""What the stack is made of: one spec per component (command, URL, health probe), from settings."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cli.stack import postgres, probes
from cli.stack.layout import SHORT, WorkerProc, worker_layout
from core.settings import REPO_ROOT, Settings

POSTGRES, TEMPORAL, API, WORKER, SELF_SERVE, CSR = "postgres", "temporal", "api", "worker", "self-serve", "csr"
INFRA = (POSTGRES, TEMPORAL)
NAMES = (POSTGRES, TEMPORAL, API, WORKER, SELF_SERVE, CSR)  # with one worker process; see component_names
WORKING_DIR = REPO_ROOT  # children import the project packages from the repository root

# A probe gets the pid of the running process (None for an external server) and says "healthy".
Probe = Callable[[int | None], bool]


@dataclass(frozen=True)
class Component:
    """One process of the stack, or an external server standing in for it."""

    name: str
    title: str
    url: str
    probe: Probe
    argv: tuple[str, ...] = ()
    external: bool = False

    def log_path(self, settings: Settings) -> Path:
        """Where this component's stdout and stderr go."""
        return settings.log_dir / f"{self.name}.log"


def venv_bin(name: str) -> Path:
    """Return the path of an executable installed beside the running interpreter."""
    return Path(sys.executable).parent / name


def temporal_argv(settings: Settings) -> list[str]:
    """Return the `temporal server start-dev` command line of the embedded Temporal."""
    from core.temporal_dev import dynamic_config, search_attribute_args, sqlite_pragma_args

    return [str(venv_bin("temporal")), "server", "start-dev",
            "--db-filename", str(settings.home / "temporal.db"),
            "--namespace", settings.temporal_namespace,
            "--port", str(settings.temporal_port), "--ui-port", str(settings.temporal_ui_port),
            "--ip", settings.host, *sqlite_pragma_args(), *search_attribute_args(),
            *dynamic_config(time_skipping=settings.time_skipping)]


def _python(module: str, *args: str) -> tuple[str, ...]:
    return (sys.executable, "-m", module, *args)


def _postgres(settings: Settings) -> Component:
    if not settings.embedded_db:
        from cli.stack.migrate import database_answers

        return Component(POSTGRES, "PostgreSQL (external)", _redact(settings.asyncpg_dsn()),
                         lambda _pid: database_answers(settings), external=True)
    pgdata = settings.pg_data_dir
    return Component(POSTGRES, "PostgreSQL", settings.asyncpg_dsn(),
                     lambda pid: postgres.is_ready(pgdata, pid), argv=tuple(postgres.server_argv(pgdata)))


def _temporal(settings: Settings) -> Component:
    host, port = probes.host_port(settings.temporal_target, 7233)
    if not settings.embedded_temporal:
        return Component(TEMPORAL, "Temporal (external)", settings.temporal_target,
                         lambda _pid: probes.tcp_open(host, port), external=True)
    ui_port = settings.temporal_ui_port
    # The frontend port opens once the server (namespaces included) is up; the UI comes last.
    return Component(TEMPORAL, "Temporal", settings.temporal_target,
                     lambda _pid: probes.tcp_open(host, port) and probes.tcp_open(settings.host, ui_port),
                     argv=tuple(temporal_argv(settings)))


def _http(name: str, title: str, settings: Settings, port: int, argv: tuple[str, ...]) -> Component:
    return Component(name, title, f"http://{settings.host}:{port}",
                     lambda _pid: probes.http_ok(settings.host, port), argv=argv)


def is_worker(name: str) -> bool:
    """True for a worker process component (`worker`, `worker:payments`, …)."""
    return name == WORKER or name.startswith(f"{WORKER}:")


def ready_file(settings: Settings, name: str) -> Path:
    """The file a worker process writes its pid to once it polls its queues (its health)."""
    return settings.run_dir / f"{name}.ready"


def _worker(settings: Settings, proc: WorkerProc) -> Component:
    ready = ready_file(settings, proc.name)
    queues = ",".join(proc.queues)
    title = "Worker" if proc.queues == tuple(SHORT) else f"Worker ({queues.replace(',', ', ')})"
    return Component(proc.name, title, f"{settings.temporal_target}/{settings.temporal_namespace}",
                     lambda pid: probes.file_holds_pid(ready, pid),
                     argv=_python("workers.main", "--name", proc.name, "--queues", queues))


def worker_components(settings: Settings) -> list[Component]:
    """Return the worker processes of the layout the settings ask for (raises LayoutError)."""
    return [_worker(settings, proc) for proc in worker_layout(settings.worker_procs, settings.worker_layout)]


def build_components(settings: Settings) -> list[Component]:
    """Return every component of the stack, infrastructure first."""
    host = settings.host
    return [
        _postgres(settings),
        _temporal(settings),
        _http(API, "API", settings, settings.api_port, _python("apis.main")),
        *worker_components(settings),
        _http(SELF_SERVE, "Self-serve portal", settings, settings.self_serve_port,
              _python("portals.self_serve.app", "--host", host, "--port", str(settings.self_serve_port))),
        _http(CSR, "CSR portal", settings, settings.csr_port,
              _python("portals.csr.app", "--host", host, "--port", str(settings.csr_port))),
    ]


def component_names(settings: Settings) -> list[str]:
    """Return the name of every component of this stack (one per worker process of its layout)."""
    return [c.name for c in build_components(settings)]


def _redact(dsn: str) -> str:
    """Hide the password of a DSN shown in tables and JSON."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(dsn)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    return dsn

