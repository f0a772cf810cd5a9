"""Memory benchmark: RSS, PSS and USS of every component of an idle stack, and their sum.

    .venv/bin/python bench/memory.py              # a private stack: start, settle, measure, stop
    .venv/bin/python bench/memory.py --running    # the stack of the current environment, as it is

RSS counts every page a process maps, so pages shared between processes (PostgreSQL's shared
buffers, the interpreter's shared libraries) are counted once per process; PSS divides each
shared page between its users, so the PSS sum is the stack's real footprint; USS is what would
be freed if that component alone stopped. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coldstart import bss, private_stack_env

MB = 1_048_576


def measure(pid: int) -> dict[str, float]:
    """Return RSS/PSS/USS (MB) and the process count of `pid` and its descendants."""
    root = psutil.Process(pid)
    totals = {"rss": 0.0, "pss": 0.0, "uss": 0.0, "processes": 0}
    for proc in [root, *root.children(recursive=True)]:
        try:
            info = proc.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        totals["rss"] += info.rss / MB
        totals["pss"] += info.pss / MB
        totals["uss"] += info.uss / MB
        totals["processes"] += 1
    return totals


def report(env: dict[str, str]) -> None:
    """Print the memory table of the stack `env` points at."""
    rows = json.loads(bss(env, "status", "--json").stdout)
    print(f"{'component':<12}{'procs':>6}{'RSS MB':>10}{'PSS MB':>10}{'USS MB':>10}")
    sums = {"rss": 0.0, "pss": 0.0, "uss": 0.0}
    for row in rows:
        if not row["pid"]:
            print(f"{row['name']:<12}{'—':>6}  ({row['health']})")
            continue
        m = measure(row["pid"])
        for key in sums:
            sums[key] += m[key]
        print(f"{row['name']:<12}{m['processes']:>6}{m['rss']:>10.1f}{m['pss']:>10.1f}{m['uss']:>10.1f}")
    print(f"{'total':<12}{'':>6}{sums['rss']:>10.1f}{sums['pss']:>10.1f}{sums['uss']:>10.1f}")


def main() -> None:
    """Measure an idle stack and print its memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--running", action="store_true", help="measure the stack of the current environment")
    parser.add_argument("--settle", type=float, default=10.0, help="idle seconds before measuring")
    args = parser.parse_args()
    if args.running:
        report(dict(os.environ))
        return
    workdir = Path(tempfile.mkdtemp(prefix="bss-bench-memory-"))
    env = private_stack_env(workdir / "home")
    try:
        up = bss(env, "up")
        if up.returncode != 0:
            raise SystemExit(f"bss up failed:\n{up.stdout}\n{up.stderr}")
        time.sleep(args.settle)  # let start-up garbage be collected and background init finish
        print(f"idle stack, {args.settle:.0f} s after all healthy:")
        report(env)
    finally:
        bss(env, "down")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
