"""Faults on a running `bss up` stack: kill or restart one component, then bring it back with `up`.

Built on the supervisor's pid files and process helpers only, so it works whatever processes the
stack runs: a component may have several processes (`worker`, `worker-2`, …); one is picked, seeded.
Recovery is the supervisor's `up`, which restarts what is missing and waits until all is healthy.
"""

from __future__ import annotations

import random
import re
import signal
import time
from dataclasses import dataclass
from enum import StrEnum

import psutil

from cli.stack.procs import live_process, read_record, reap, signal_process, tree, wait_all
from core.settings import Settings


class Fault(StrEnum):
    """What a chaos round does to the stack."""

    KILL_WORKER = "kill-worker"
    KILL_API = "kill-api"
    RESTART_POSTGRES = "restart-postgres"
    RESTART_TEMPORAL = "restart-temporal"


COMPONENT = {Fault.KILL_WORKER: "worker", Fault.KILL_API: "api", Fault.RESTART_POSTGRES: "postgres",
             Fault.RESTART_TEMPORAL: "temporal"}
# Worker, API and PostgreSQL die hard (SIGKILL, the whole tree: an OOM kill or a crash, PostgreSQL
# then recovers from its WAL); Temporal is stopped (SIGTERM) and started again on its state file.
SIGNAL = {Fault.KILL_WORKER: signal.SIGKILL, Fault.KILL_API: signal.SIGKILL,
          Fault.RESTART_POSTGRES: signal.SIGKILL, Fault.RESTART_TEMPORAL: signal.SIGTERM}
STOP_TIMEOUT_S = 15.0
REAP_TIMEOUT_S = 10.0
RECOVERY_ATTEMPTS = 3


class FaultError(Exception):
    """The fault could not be injected (nothing of that component is running)."""


@dataclass(frozen=True)
class Injected:
    """One fault as it happened: which process, and how long the stack took to be healthy again."""

    fault: Fault
    process: str
    pid: int
    at_s: float
    recovered_after_s: float


def processes_of(settings: Settings, component: str) -> dict[str, psutil.Process]:
    """The live processes recorded for `component` (`worker`, and `worker-2`… when several run)."""
    found = {}
    for path in sorted(settings.run_dir.glob(f"{component}*.pid")):
        name = path.stem
        if not re.fullmatch(rf"{re.escape(component)}([-_]?\d+)?", name):
            continue  # another component whose name starts alike
        proc = live_process(read_record(settings.run_dir, name))
        if proc is not None:
            found[name] = proc
    return found


def stop(proc: psutil.Process, sig: int) -> None:
    """Signal `proc` and everything it spawned, wait until all are gone (SIGKILL what outlives the timeout)."""
    victims = tree(proc)  # the children are read before the parent dies
    for member in victims if sig == signal.SIGKILL else victims[:1]:
        signal_process(member, sig)
    for member in wait_all(victims, STOP_TIMEOUT_S):
        signal_process(member, signal.SIGKILL)
    if wait_all(victims, 10.0):
        raise FaultError(f"pid {proc.pid} survived SIGKILL")
    # A zombie still owns its pid until its parent reaps it, and PostgreSQL refuses to start while
    # the pid in its socket lock file exists: reap what this process started, wait for the others.
    # Reaped again on every look: a multi-threaded process shows as a zombie before its last
    # thread is gone, and until then waitpid does not collect it.
    deadline = time.monotonic() + REAP_TIMEOUT_S
    while time.monotonic() < deadline:
        reap(victims)
        if not any(psutil.pid_exists(member.pid) for member in victims):
            break
        time.sleep(0.05)


def inject(settings: Settings, fault: Fault, rng: random.Random) -> tuple[str, int]:
    """Kill or stop one process of the fault's component (picked with `rng`); return its name and pid."""
    procs = processes_of(settings, COMPONENT[fault])
    if not procs:
        raise FaultError(f"{COMPONENT[fault]} is not running (start the stack with `bss up`)")
    name = rng.choice(sorted(procs))
    stop(procs[name], SIGNAL[fault])
    return name, procs[name].pid


def recover(settings: Settings, timeout_s: float) -> float:
    """Bring the stack back (`up`: restart what is missing, wait until healthy); return the seconds it took."""
    from cli.stack.supervisor import StackError, up

    began = time.monotonic()
    for attempt in range(1, RECOVERY_ATTEMPTS + 1):
        try:
            up(settings, timeout_s=timeout_s)
            break
        except StackError:
            # A component that died at once (a lock its dead predecessor still held) is started again.
            if attempt == RECOVERY_ATTEMPTS:
                raise
            time.sleep(1.0)
    return time.monotonic() - began
