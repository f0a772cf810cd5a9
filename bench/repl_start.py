"""REPL start-up: from `bss` (no arguments, on a terminal) to its prompt, beside `bss --help` in the same run.

    .venv/bin/python bench/repl_start.py [--runs 20]

The REPL runs on a pseudo-terminal (`pty`); the clock stops when the prompt (`bss> `) is written,
then Ctrl-D closes it. Nothing else runs: the health banner probes a stack that is down (or up, if
one is), as a person opening `bss` sees it. The floors: `python -c pass` and `bss --help` (which
builds every command from the registry, as the REPL does). Target (issue #15): ≤ 0.8 s.
Prints medians and the spread; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path

BSS = Path(sys.executable).with_name("bss")
PROMPT = b"bss>"  # prompt_toolkit draws the trailing space as a cursor move


def time_command(argv: list[str]) -> float:
    """Seconds a command takes to run to its end, output discarded."""
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def time_repl(env: dict[str, str], timeout_s: float = 10.0) -> float:
    """Seconds from spawning `bss` on a pty to its prompt on the screen."""
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: become `bss` on the terminal
        os.execve(str(BSS), [str(BSS)], env)
    seen = b""
    elapsed = None
    try:
        while time.perf_counter() - started < timeout_s:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if PROMPT in seen:
                elapsed = time.perf_counter() - started
                break
        if elapsed is None:
            raise RuntimeError(f"no prompt within {timeout_s} s; the screen said:\n{seen.decode(errors='replace')}")
        os.write(fd, b"\x04")  # Ctrl-D: leave
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
            select.select([fd], [], [], 0.05)
            try:
                os.read(fd, 65536)
            except OSError:
                pass
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return elapsed


def _summary(name: str, samples_s: list[float]) -> None:
    samples = sorted(s * 1000 for s in samples_s)
    p10, p90 = samples[len(samples) // 10], samples[(len(samples) * 9) // 10]
    print(f"{name:40} {statistics.median(samples):10.0f} {p10:7.0f} {p90:7.0f}")


def main() -> None:
    """Time each case `--runs` times (after one warm-up), interleaved, and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    env = dict(os.environ, TERM=os.environ.get("TERM", "xterm-256color"), COLUMNS="100", LINES="40")
    cases = {
        "python -c pass (floor)": lambda: time_command([sys.executable, "-c", "pass"]),
        "bss --help (CLI floor)": lambda: time_command([str(BSS), "--help"]),
        "bss → REPL prompt": lambda: time_repl(env),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for run in cases.values():
        run()  # warm the bytecode and page caches
    for _ in range(runs):
        for name, run in cases.items():
            samples[name].append(run())
    print(f"{'case':40} {'median ms':>10} {'p10':>7} {'p90':>7}")
    for name, values in samples.items():
        _summary(name, values)


if __name__ == "__main__":
    main()
