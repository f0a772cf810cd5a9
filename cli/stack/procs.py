"""Processes of the stack: detached spawning, pid files that remember identity, stopping, memory.

A pid file holds four lines: the pid, the process create time (wall clock), the argv (JSON) and
the process start in seconds after boot. The start is what makes `bss down` safe: a pid reused by
an unrelated process has another start, so it is never signalled. It is compared after boot, not
on the wall clock: the kernel derives a process's wall-clock create time from the boot time, which
moves whenever the wall clock is stepped (a VM restored from a snapshot is stepped by the time it
was paused), and a stack whose pid files all named "another process" then looked down while it
ran (chaos round 7). A three-line file (written before the fourth line existed) is still read.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from cli.stack.logs import START_MARKER

# Start times are clock ticks (10 ms) after boot; psutil's wall-clock ones add the boot time to them.
_CREATE_TIME_TOLERANCE_S = 0.05
_MAX_LOG_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class PidRecord:
    """What `up` wrote about a process it started."""

    pid: int
    create_time: float
    argv: tuple[str, ...]
    started_after_boot_s: float | None = None  # None in a pid file written before it was recorded


def pid_path(run_dir: Path, name: str) -> Path:
    """Return the pid file of component `name`."""
    return run_dir / f"{name}.pid"


def started_after_boot(pid: int) -> float | None:
    """Seconds from boot to the start of `pid` (Linux /proc; None elsewhere): wall-clock steps leave it alone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22, starttime in clock ticks; counted after the command name, which may hold spaces or ')'.
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[19]) / os.sysconf("SC_CLK_TCK")


def write_record(run_dir: Path, name: str, pid: int, argv: Sequence[str]) -> PidRecord:
    """Record `pid` (with its create time) as component `name`; return the record."""
    record = PidRecord(pid, psutil.Process(pid).create_time(), tuple(argv), started_after_boot(pid))
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = pid_path(run_dir, name).with_suffix(".tmp")
    started = "" if record.started_after_boot_s is None else repr(record.started_after_boot_s)
    tmp.write_text(f"{record.pid}\n{record.create_time!r}\n{json.dumps(list(record.argv))}\n{started}\n")
    tmp.replace(pid_path(run_dir, name))  # atomic: a concurrent reader never sees half a file
    return record


def read_record(run_dir: Path, name: str) -> PidRecord | None:
    """Return the pid record of `name`, or None when absent or unreadable."""
    try:
        lines = pid_path(run_dir, name).read_text().splitlines()
        started = float(lines[3]) if len(lines) > 3 and lines[3] else None
        return PidRecord(int(lines[0]), float(lines[1]), tuple(json.loads(lines[2])), started)
    except (OSError, ValueError, IndexError):
        return None


def remove_record(run_dir: Path, name: str) -> None:
    """Delete the pid file of `name` if present."""
    pid_path(run_dir, name).unlink(missing_ok=True)


def same_process(pid: int, create_time: float, started_after_boot_s: float | None = None) -> psutil.Process | None:
    """Return the live process `pid` if it is still the one started then (after boot when known, else wall clock)."""
    try:
        proc = psutil.Process(pid)
        started = started_after_boot(pid) if started_after_boot_s is not None else None
        if started is None:
            started, started_after_boot_s = proc.create_time(), create_time
        if abs(started - started_after_boot_s) > _CREATE_TIME_TOLERANCE_S:
            return None  # the pid was reused
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def live_process(record: PidRecord | None) -> psutil.Process | None:
    """Return the recorded process when it is alive and still the same process."""
    return same_process(record.pid, record.create_time, record.started_after_boot_s) if record else None


def _rotate(log_path: Path) -> None:
    try:
        if log_path.stat().st_size > _MAX_LOG_BYTES:
            log_path.replace(log_path.with_suffix(log_path.suffix + ".1"))
    except FileNotFoundError:
        pass


def spawn(argv: Sequence[str], log_path: Path, *, cwd: Path, user: str | None = None) -> subprocess.Popen:
    """Start `argv` detached from the CLI: own session, stdin from /dev/null, output to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    _rotate(log_path)
    ids: dict[str, object] = {}
    if user is not None:
        import pwd

        entry = pwd.getpwnam(user)
        # Drop root's groups too: PostgreSQL refuses to run with root privileges of any kind.
        ids = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    with log_path.open("ab") as log:
        # A marker per start, so a log tail shows where the current run begins.
        log.write(f"\n{START_MARKER}{' '.join(argv)} ({time.strftime('%Y-%m-%d %H:%M:%S')}) ===\n".encode())
        log.flush()
        # The child gets its own copy of the log descriptor; the session makes it survive the CLI.
        return subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                cwd=cwd, start_new_session=True, close_fds=True, **ids)  # type: ignore[arg-type]


def signal_process(proc: psutil.Process, sig: int) -> None:
    """Send `sig` to `proc`, ignoring a process that is already gone."""
    try:
        proc.send_signal(sig)
    except psutil.NoSuchProcess:
        pass


def gone(proc: psutil.Process) -> bool:
    """True when `proc` has exited (a zombie counts: it only waits for its parent to reap it)."""
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_all(procs: Iterable[psutil.Process], timeout_s: float, interval_s: float = 0.02) -> list[psutil.Process]:
    """Wait until every process in `procs` has exited; return those still alive after `timeout_s`.

    Polls them all together (psutil.wait_procs waits on one at a time, which adds up to a second
    per slow process to the others).
    """
    alive = list(procs)
    deadline = time.monotonic() + timeout_s
    while alive:
        alive = [proc for proc in alive if not gone(proc)]
        if not alive or time.monotonic() >= deadline:
            break
        time.sleep(interval_s)
    return alive


def reap(procs: Iterable[psutil.Process]) -> None:
    """Collect the exit status of those of `procs` that are this process's exited children (call until gone).

    A component `up` started from this process (chaos recovers in-process) is its child: once dead
    it stays a zombie holding its pid until reaped, and PostgreSQL will not start while the pid in
    its lock file exists.
    """
    for proc in procs:
        try:
            os.waitpid(proc.pid, os.WNOHANG)
        except ChildProcessError:
            pass  # not our child (its parent or init reaps it), or already reaped


def tree(proc: psutil.Process) -> list[psutil.Process]:
    """Return `proc` and all of its descendants."""
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_memory(proc: psutil.Process) -> tuple[int, int | None]:
    """Return (RSS, PSS) in bytes summed over the process tree; PSS is None when unreadable.

    RSS double-counts pages shared between the processes of a tree (PostgreSQL's shared buffers
    are in every backend); PSS splits each shared page between its users, so PSS sums are honest.
    """
    rss, pss = 0, 0
    for member in tree(proc):
        try:
            rss += member.memory_info().rss
            if pss is not None:
                pss += member.memory_full_info().pss  # smaps_rollup: cheap on current kernels
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        except (psutil.AccessDenied, AttributeError):
            pss = None
    return rss, pss


def uptime_s(proc: psutil.Process) -> float | None:
    """Return how long `proc` has been running, in seconds."""
    try:
        # Create times are wall-clock stamps, so uptime must be computed against the wall clock.
        return max(0.0, time.time() - proc.create_time())
    except psutil.NoSuchProcess:
        return None


@contextmanager
def exclusive(run_dir: Path) -> Iterator[None]:
    """Hold the supervisor lock, so two `bss up`/`bss down` never race over the same pid files."""
    import fcntl

    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "supervisor.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed, or the CLI dies
        yield


def is_root() -> bool:
    """True when the CLI runs as root (the embedded PostgreSQL then runs as its own user)."""
    return os.geteuid() == 0
