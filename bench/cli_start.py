"""CLI start-up: how long `bss` takes to answer before it talks to anything, beside its floors.

    .venv/bin/python bench/cli_start.py [--runs 20]

Every command is generated from the operations registry at start-up (their pydantic input models
are built then), so this is the cost the registry adds to each invocation. Measured in the same
run: the interpreter alone, and the interpreter importing Typer + Rich (the floor of any Typer CLI
with rich help). Prints medians and the spread; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BSS = Path(sys.executable).with_name("bss")
CASES = [
    ("python -c pass (floor)", [sys.executable, "-c", "pass"]),
    ("import typer + rich (Typer floor)", [sys.executable, "-c", "import typer, typer.rich_utils, rich.console"]),
    ("import pydantic (models floor)", [sys.executable, "-c", "import pydantic"]),
    ("bss --help", [str(BSS), "--help"]),
    ("bss customer --help", [str(BSS), "customer", "--help"]),
    ("bss payment history --help", [str(BSS), "payment", "history", "--help"]),
]


def _time(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    """Run each case `--runs` times (after one warm-up) and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    print(f"{'case':40} {'median ms':>10} {'p10':>7} {'p90':>7}")
    for name, argv in CASES:
        _time(argv)  # warm the bytecode and page caches
        samples = sorted(_time(argv) * 1000 for _ in range(runs))
        p10, p90 = samples[len(samples) // 10], samples[(len(samples) * 9) // 10]
        print(f"{name:40} {statistics.median(samples):10.0f} {p10:7.0f} {p90:7.0f}")


if __name__ == "__main__":
    main()
