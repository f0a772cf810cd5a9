"""`bss up` and `bss down`: start every missing component at once, then poll; stop by pid files.

Everything is spawned before anything is waited for: the API answers 503 on /health until the
database does and the worker retries Temporal, so they come up beside PostgreSQL and Temporal
instead of after them. The database is migrated (when behind) as soon as PostgreSQL is ready,
while the Python processes are still importing.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from cli.stack import postgres
from cli.stack.components import (
    API,
    INFRA,
    POSTGRES,
    TEMPORAL,
    WORKING_DIR,
    Component,
    build_components,
    is_worker,
    ready_file,
)
from cli.stack.logs import current_run_tail
from cli.stack.migrate import ensure_migrated
from cli.stack.procs import (
    exclusive,
    live_process,
    read_record,
    reap,
    remove_record,
    signal_process,
    spawn,
    tree,
    wait_all,
    write_record,
)
from cli.stack.scale import forget, recorded, remember
from cli.stack.scale import read as read_scale
from cli.stack.status import running_process
from core.settings import Settings

POLL_INTERVAL_S = 0.05
# (event, component name, detail): rendered by the command, kept out of the supervisor.
Reporter = Callable[[str, str, str], None]


class StackError(Exception):
    """A component failed to become healthy; carries the tail of its log."""

    def __init__(self, component: str, message: str, log_tail: list[str]) -> None:
        super().__init__(f"{component}: {message}")
        self.component, self.message, self.log_tail = component, message, log_tail


@dataclass
class UpReport:
    """What `up` did: which components it started, which were already running, and timings."""

    started: dict[str, int] = field(default_factory=dict)
    already_running: dict[str, int] = field(default_factory=dict)
    healthy_after_s: dict[str, float] = field(default_factory=dict)
    migrated: bool = False
    elapsed_s: float = 0.0


class ModeConflict(Exception):
    """`up` asked for one time mode while the stack runs in the other (DESIGN.md §6)."""


def _quiet(event: str, name: str, detail: str) -> None:
    pass


def _time_skipping_marker(settings: Settings) -> Path:
    return settings.run_dir / "time-skipping"


def _settle_time_mode(settings: Settings, components: list[Component]) -> None:
    """Record the mode the stack starts in; refuse to join a running stack started in the other one.

    The mode lives in Temporal's dynamic config and in the API's and worker's environment, so a
    restarted worker must come back in the mode its siblings run in.
    """
    marker = _time_skipping_marker(settings)
    timed = [c.name for c in components
             if (c.name in (TEMPORAL, API) or is_worker(c.name)) and running_process(settings, c)]
    running_skipping = marker.exists()
    if timed and running_skipping != settings.time_skipping:
        mode = "with" if running_skipping else "without"
        again = "bss up --time-skipping" if running_skipping else "bss up"
        raise ModeConflict(f"the stack is running {mode} time skipping ({', '.join(timed)}): use `{again}`, "
                           f"or `bss down` first to switch modes")
    if settings.time_skipping:
        marker.touch()
    else:
        marker.unlink(missing_ok=True)


def prepare(settings: Settings) -> None:
    """Create the stack's directories and the dev API tokens (before the API starts and reads them)."""
    from core.tokens import ensure_dev_tokens

    for path in (settings.home, settings.run_dir, settings.log_dir):
        path.mkdir(parents=True, exist_ok=True)
    ensure_dev_tokens(settings.home / "tokens.env")


def _start(settings: Settings, component: Component) -> subprocess.Popen:
    user = None
    if component.name == POSTGRES:
        pgdata = settings.pg_data_dir
        postgres.check_socket_path(pgdata)
        if not postgres.is_initialised(pgdata):
            postgres.initialise(pgdata)
        postgres.clear_stale_lock(pgdata)
        user = postgres.owner(pgdata)
    elif is_worker(component.name):
        ready_file(settings, component.name).unlink(missing_ok=True)  # health means "this pid wrote it"
    popen = spawn(component.argv, component.log_path(settings), cwd=WORKING_DIR, user=user)
    write_record(settings.run_dir, component.name, popen.pid, component.argv)
    return popen


def _spawn_missing(settings: Settings, components: list[Component], report: Reporter,
                   result: UpReport) -> tuple[dict[str, int], dict[str, subprocess.Popen]]:
    pids: dict[str, int] = {}
    children: dict[str, subprocess.Popen] = {}
    # A PostgreSQL that still needs initdb (first run only) is started last, so its second of
    # initialisation overlaps the other components' start instead of delaying it.
    needs_init = settings.embedded_db and not postgres.is_initialised(settings.pg_data_dir)
    order = sorted(components, key=lambda c: c.name == POSTGRES and needs_init)
    for component in order:
        if component.external:
            report("external", component.name, component.url)
            continue
        proc = running_process(settings, component, adopt=True)
        if proc is not None and is_worker(component.name) and _queues_changed(settings, component):
            # Same name, other queues (the layout changed): this process must serve what the layout says.
            _stop_group(settings, [component], 10.0, report)
            proc = None
        if proc is not None:
            pids[component.name] = result.already_running[component.name] = proc.pid
            report("running", component.name, str(proc.pid))
            continue
        remove_record(settings.run_dir, component.name)
        children[component.name] = popen = _start(settings, component)
        pids[component.name] = result.started[component.name] = popen.pid
        report("started", component.name, str(popen.pid))
    return pids, children


def _fail(settings: Settings, component: Component, message: str) -> StackError:
    return StackError(component.name, message, current_run_tail(component.log_path(settings), 30))


def _check_alive(settings: Settings, component: Component, pid: int | None,
                 child: subprocess.Popen | None) -> None:
    if child is not None:
        code = child.poll()  # also reaps it, so a crashed child never lingers as a zombie
        if code is not None:
            raise _fail(settings, component, f"exited with code {code} while starting")
    elif pid is not None and not psutil.pid_exists(pid):
        raise _fail(settings, component, f"process {pid} disappeared while starting")


class _Migration:
    """`ensure_migrated` in a thread, so the poll loop keeps reporting while Alembic works."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.thread: threading.Thread | None = None
        self.ran = False
        self.error: Exception | None = None

    def start(self) -> None:
        """Begin checking (and if needed migrating) the database."""
        self.thread = threading.Thread(target=self._run, name="bss-migrate", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.ran = ensure_migrated(self.settings)
        except Exception as exc:  # noqa: BLE001 - handed to the main thread, which reports it
            self.error = exc

    def done(self) -> bool:
        """True once the database is at head; raises StackError if migrating failed."""
        if self.thread is None or self.thread.is_alive():
            return False
        if self.error is not None:
            exc = self.error
            raise StackError("database", f"migration failed: {exc.__class__.__name__}: {exc}", []) from exc
        return True


def up(settings: Settings, timeout_s: float = 60.0, report: Reporter = _quiet, keep_scale: bool = True) -> UpReport:
    """Start whatever is not running and wait until every component is healthy.

    With `keep_scale`, a stack already started keeps the API and worker processes it was started with
    (cli/stack/scale.py) whatever `settings` say; `bss up --api-procs/--workers` passes False to change them.
    """
    t0 = time.monotonic()
    if keep_scale:
        settings = recorded(settings)
    result = UpReport()
    prepare(settings)
    components = build_components(settings)
    with exclusive(settings.run_dir):
        _settle_time_mode(settings, components)
        if (read_scale(settings) or {}).get("api_workers", settings.api_workers) != settings.api_workers:
            # The API forks its servers at start: another count means starting it again.
            _stop_group(settings, [c for c in components if c.name == API], 10.0, report)
        remember(settings)
        # Worker processes of another layout (`--workers` changed) stop before this layout's start.
        _stop_group(settings, _other_workers(settings, components), 10.0, report)
        pids, children = _spawn_missing(settings, components, report, result)
    pending = {c.name: c for c in components}
    deadline = t0 + timeout_s
    migration = _Migration(settings)
    while True:
        for name, component in list(pending.items()):
            _check_alive(settings, component, pids.get(name), children.get(name))
            if component.probe(pids.get(name)):
                del pending[name]
                result.healthy_after_s[name] = time.monotonic() - t0
                report("healthy", name, f"{result.healthy_after_s[name]:.2f}")
        if migration.thread is None and POSTGRES not in pending:
            report("migrating", "database", "")
            migration.start()
        migrated = migration.done()  # raises as soon as a migration fails
        if not pending and migrated:
            break
        if time.monotonic() > deadline:
            if pending:
                raise _fail(settings, next(iter(pending.values())), f"not healthy after {timeout_s:.0f} s")
            raise StackError("database", f"migrations still running after {timeout_s:.0f} s", [])
        time.sleep(POLL_INTERVAL_S)
    result.migrated = migration.ran
    report("migrated" if migration.ran else "at-head", "database", "")
    result.elapsed_s = time.monotonic() - t0
    return result


def _stop_group(settings: Settings, components: list[Component], timeout_s: float,
                report: Reporter) -> dict[str, int]:
    procs: dict[str, psutil.Process] = {}
    for component in components:
        proc = live_process(read_record(settings.run_dir, component.name))
        if proc is None:
            remove_record(settings.run_dir, component.name)  # stale: never signal a reused pid
            continue
        procs[component.name] = proc
        signal_process(proc, postgres.STOP_SIGNAL if component.name == POSTGRES else signal.SIGTERM)
        report("stopping", component.name, str(proc.pid))
    alive = wait_all(procs.values(), timeout_s)
    for name, proc in procs.items():
        if proc in alive:
            report("killing", name, str(proc.pid))
            signal_process(proc, postgres.KILL_SIGNAL if name == POSTGRES else signal.SIGKILL)
    for proc in wait_all(alive, 5.0):
        signal_process(proc, signal.SIGKILL)  # PostgreSQL ignored even an immediate shutdown
    wait_all(alive, 5.0)
    for name, proc in procs.items():
        remove_record(settings.run_dir, name)
        report("stopped", name, str(proc.pid))
    return {name: proc.pid for name, proc in procs.items()}


def down(settings: Settings, timeout_s: float = 10.0, report: Reporter = _quiet) -> dict[str, int]:
    """Stop what `up` started (by pid file), applications before infrastructure; return stopped pids."""
    components = [c for c in build_components(settings) if not c.external]
    components += _other_workers(settings, components)
    apps = [c for c in components if c.name not in INFRA]
    infra = [c for c in components if c.name in INFRA]
    with exclusive(settings.run_dir):
        # Applications first: they flush spans and close connections while the database answers.
        stopped = _stop_group(settings, apps, timeout_s, report)
        stopped |= _stop_group(settings, infra, timeout_s, report)
        for ready in settings.run_dir.glob("worker*.ready"):
            ready.unlink(missing_ok=True)
        _time_skipping_marker(settings).unlink(missing_ok=True)
        forget(settings)
    return stopped


def restart(settings: Settings, name: str, *, kill: bool = False, timeout_s: float = 60.0,
            report: Reporter = _quiet) -> UpReport:
    """Stop one component (`api`, `worker`, `worker:payments`, `postgres`, …) and bring the stack back healthy.

    `kill` SIGKILLs the component with every process it spawned (a crash: PostgreSQL's backends,
    the API's forked servers), instead of the graceful stop `bss down` does. The component is then
    started again by `up`, which waits until every component is healthy; the others are left alone.
    """
    settings = recorded(settings)
    components = {c.name: c for c in build_components(settings)}
    component = components.get(name)
    if component is None or component.external:
        known = ", ".join(n for n, c in components.items() if not c.external)
        raise StackError(name, f"no such component of this stack; choose one of: {known}", [])
    with exclusive(settings.run_dir):
        if kill:
            proc = live_process(read_record(settings.run_dir, name))
            victims = tree(proc) if proc is not None else []  # the children read before the parent dies
            for victim in victims:
                signal_process(victim, signal.SIGKILL)
            wait_all(victims, 10.0)
            # A zombie keeps its pid until reaped, and PostgreSQL will not start while its lock file's pid exists.
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline:
                reap(victims)  # again on every look: a dying multi-threaded process is not collectable at once
                if not any(psutil.pid_exists(v.pid) for v in victims):
                    break
                time.sleep(POLL_INTERVAL_S)
            remove_record(settings.run_dir, name)
            report("killed", name, str(proc.pid) if proc else "")
        else:
            _stop_group(settings, [component], timeout_s, report)
    return up(settings, timeout_s=timeout_s, report=report, keep_scale=False)


def _queues_changed(settings: Settings, component: Component) -> bool:
    """True when the running process was started with other arguments (the interpreter path aside)."""
    record = read_record(settings.run_dir, component.name)
    return record is not None and record.argv[1:] != component.argv[1:]


def _other_workers(settings: Settings, components: list[Component]) -> list[Component]:
    """Worker processes recorded in the run directory that the current layout does not have."""
    names = {c.name for c in components}
    others = sorted(path.stem for path in settings.run_dir.glob("worker*.pid")
                    if is_worker(path.stem) and path.stem not in names)
    return [Component(name, name, "", lambda _pid: False) for name in others]
