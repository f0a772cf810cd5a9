"""A real stack started by `bss up` in a private BSS_HOME on free ports (end-to-end tests).

The stack runs as separate processes started by the `bss` console script — exactly what
`make up` does — and `bss down` always runs at the end. Faults are injected on the real
processes: `Stack.kill` SIGKILLs a component with everything it spawned (PostgreSQL's
backends too, as a crash or an OOM kill would), `Stack.bring_back` is `bss up` (it restarts only
what is missing), and `outage` holds a component down for a while between the two.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from cli.stack.procs import read_record, tree, wait_all

BSS = Path(sys.executable).with_name("bss")
PORT_VARS = ("BSS_API_PORT", "BSS_SELF_SERVE_PORT", "BSS_CSR_PORT", "BSS_TEMPORAL_PORT", "BSS_TEMPORAL_UI_PORT")
# The session conftest configures in-process tests (test tokens, no span store); the stack under
# test must configure itself from its own BSS_HOME, like a developer's.
_FOREIGN_PREFIXES = ("BSS_", "TEMPORAL_", "OTEL_")
SHARED_PYCACHE = Path(tempfile.gettempdir()) / f"bss-e2e-pycache-{os.getuid()}"


def free_ports(count: int) -> list[int]:
    """Ports the kernel just handed out, held together so they are distinct."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def stack_env(base: Path) -> dict[str, str]:
    """The environment of a stack homed under `base`: this one minus our settings, plus home and ports."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(_FOREIGN_PREFIXES) and key != "PYTHONDONTWRITEBYTECODE"}
    env |= {"BSS_HOME": str(base / "home"), **dict(zip(PORT_VARS, map(str, free_ports(len(PORT_VARS)))))}
    # A bytecode cache outside the repository, shared by every stack a test starts (and kept between
    # runs; Python checks each entry against its source): only the first stack ever compiles.
    env["PYTHONPYCACHEPREFIX"] = str(SHARED_PYCACHE)
    return env


@dataclass
class Stack:
    """A stack started by `bss up` in its own home."""

    home: Path
    env: dict[str, str]

    def bss(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """Run the `bss` console script against this stack."""
        return subprocess.run([str(BSS), *args], env=self.env, capture_output=True, text=True, timeout=timeout,
                              check=False)

    def bss_json(self, *args: str, timeout: float = 180) -> dict | list:
        """Run `bss ARGS… --json`, assert it succeeded, return the decoded output."""
        result = self.bss(*args, "--json", timeout=timeout)
        assert result.returncode == 0, f"bss {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return json.loads(result.stdout)

    def status(self) -> tuple[int, dict[str, dict]]:
        """Return the exit code of `bss status --json` and its rows by component name."""
        result = self.bss("status", "--json", timeout=60)
        return result.returncode, {row["name"]: row for row in json.loads(result.stdout)}

    @property
    def api_url(self) -> str:
        """Base URL of the stack's API."""
        return f"http://127.0.0.1:{self.env['BSS_API_PORT']}"

    def token(self, name: str = "BSS_API_TOKEN_CLI") -> str:
        """Return a dev token that `bss up` generated into the home."""
        lines = (self.home / "tokens.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))[name]

    @property
    def dsn(self) -> str:
        """asyncpg DSN of the stack's database."""
        return f"postgresql://postgres@/bss?host={self.home / 'pg'}"

    def pid(self, component: str) -> int | None:
        """The pid `bss up` recorded for `component` (postgres, temporal, api, worker, …), if any."""
        record = read_record(self.home / "run", component)
        return record.pid if record else None

    def kill(self, component: str) -> int:
        """SIGKILL `component` and every process it spawned, wait until all are gone; return its pid.

        For PostgreSQL that is a crash: no shutdown checkpoint, open transactions lost, crash
        recovery on the next start, clients see their connections drop (or refused) at once.
        """
        pid = self.pid(component)
        assert pid is not None, f"{component} is not running"
        victims = tree(psutil.Process(pid))  # the children first read, before the parent dies
        for proc in victims:
            try:
                proc.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        assert not wait_all(victims, 10.0), f"{component} survived SIGKILL"
        return pid

    def bring_back(self) -> dict[str, int]:
        """`bss up`: restart what is missing and wait until the whole stack is healthy; return the pids."""
        result = self.bss("up", "--timeout", "150")
        assert result.returncode == 0, f"bss up failed:\n{result.stdout}\n{result.stderr}"
        return {name: row["pid"] for name, row in self.status()[1].items()}


@asynccontextmanager
async def outage(stack: Stack, component: str, seconds: float) -> AsyncIterator[int]:
    """Kill `component` on entry (yielding its old pid); on exit, once `seconds` have passed since, bring it back.

    The body runs while the component is down (e.g. to check what the rest of the stack does
    meanwhile); it may take longer than `seconds`, then the outage lasts as long as the body.
    The sleep is the outage itself, not a wait for some state: what follows polls as usual.
    """
    began = time.monotonic()
    pid = await asyncio.to_thread(stack.kill, component)
    try:
        yield pid
    finally:
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - began)))
        await asyncio.to_thread(stack.bring_back)


def postgres_outage(stack: Stack, seconds: float) -> AbstractAsyncContextManager[int]:
    """PostgreSQL killed hard (postmaster and backends) and restarted by `bss up` after `seconds`."""
    return outage(stack, "postgres", seconds)


@contextmanager
def running_stack(base: Path, *up_args: str) -> Iterator[Stack]:
    """`bss up UP_ARGS…` in a home under `base`; always `bss down` afterwards."""
    env = stack_env(base)
    stack = Stack(home=Path(env["BSS_HOME"]), env=env)
    try:
        result = stack.bss("up", "--timeout", "150", *up_args)
        assert result.returncode == 0, f"bss up failed:\n{result.stdout}\n{result.stderr}"
        yield stack
    finally:
        stack.bss("down")
