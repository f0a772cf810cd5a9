"""Cold-start benchmark: time `bss up` from invocation to every component healthy.

    .venv/bin/python bench/coldstart.py [--runs 5] [--modes warm,cold] [--default-stack]

By default the bench runs a private stack (its own BSS_HOME under a temp dir, free ports), so a
dev stack on the default ports is never touched. It installs that stack once (initdb, migrations;
not timed), then for each run: `bss down` (not timed), then `bss up --json` (timed).

Modes (the bytecode cache is what dominates a Python process's start):
  warm    – PYTHONPYCACHEPREFIX=<bench dir>/pycache-warm, filled by one untimed run first;
  nowrite – PYTHONDONTWRITEBYTECODE=1 with that warm cache minus the project's own modules
            (deleted before every run): an installed venv with compiled dependencies, as
            `uv pip sync --compile-bytecode` leaves it, and a project that is never compiled;
  cold    – PYTHONDONTWRITEBYTECODE=1 and an empty PYTHONPYCACHEPREFIX per run: every module of
            every process (stdlib included) is compiled from source, nothing is written;
  asis    – the caller's environment unchanged.

Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BSS = Path(sys.executable).with_name("bss")
REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from tests.support.stack import PORT_VARS, free_ports  # the e2e tests' port picking


def private_stack_env(home: Path) -> dict[str, str]:
    """Return an environment for a stack of its own: BSS_HOME=`home`, free ports, no external servers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BSS_", "TEMPORAL_", "OTEL_"))}
    return env | {"BSS_HOME": str(home), **dict(zip(PORT_VARS, map(str, free_ports(len(PORT_VARS)))))}


def bss(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the `bss` console script with `env`."""
    return subprocess.run([str(BSS), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def mode_env(base: dict[str, str], mode: str, workdir: Path) -> dict[str, str]:
    """Return the environment of one timed run in `mode`."""
    env = dict(base)
    warm = workdir / "pycache-warm"
    if mode == "warm":
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(warm)
    elif mode == "nowrite":
        # The prefix mirrors absolute source paths; drop the project's packages but keep the
        # virtualenv's, which may live inside the repository.
        mirror = warm / REPO_ROOT.relative_to(REPO_ROOT.anchor)
        venv = Path(sys.prefix).resolve()
        for entry in mirror.iterdir() if mirror.is_dir() else ():
            if not venv.is_relative_to(REPO_ROOT / entry.name):
                shutil.rmtree(entry, ignore_errors=True)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = str(warm)
    elif mode == "cold":
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="pycache-cold-", dir=workdir)
    return env


def timed_up(env: dict[str, str]) -> dict:
    """Stop the stack, then time `bss up` to all healthy; return wall time and the up report."""
    bss(env, "down")
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    result = bss(env, "up", "--json")
    wall = time.monotonic() - t0
    if result.returncode != 0:
        raise SystemExit(f"bss up failed:\n{result.stdout}\n{result.stderr}")
    report = json.loads(result.stdout)
    return {"wall_s": wall, "elapsed_s": report["elapsed_s"], "healthy_after_s": report["healthy_after_s"],
            "cpu_s": {row["name"]: cpu_seconds(row["pid"]) for row in report["components"] if row["pid"]},
            "load1": load}


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a component's process tree has used so far."""
    import psutil

    try:
        root = psutil.Process(pid)
        return sum(sum(p.cpu_times()[:2]) for p in [root, *root.children(recursive=True)])
    except psutil.NoSuchProcess:
        return 0.0


def summarise(mode: str, runs: list[dict]) -> None:
    """Print median/min/max of the wall time, the supervisor's own time and each component's."""
    def line(label: str, values: list[float]) -> str:
        return (f"  {label:<22} median {statistics.median(values):5.2f} s   min {min(values):5.2f} s   "
                f"max {max(values):5.2f} s")

    print(f"\n{mode}: {len(runs)} runs")
    print(line("bss up (wall)", [r["wall_s"] for r in runs]))
    print(line("spawn → all healthy", [r["elapsed_s"] for r in runs]))
    for name in runs[0]["healthy_after_s"]:
        print(line(f"  {name} healthy", [r["healthy_after_s"][name] for r in runs]))
    # CPU is what a 2-core machine runs out of: the sum over components bounds the wall time.
    cpu = {name: statistics.median(r["cpu_s"][name] for r in runs) for name in runs[0]["cpu_s"]}
    print("  CPU-s used by the time all were healthy (median): "
          + ", ".join(f"{name} {value:.2f}" for name, value in cpu.items()) + f"; sum {sum(cpu.values()):.2f}")


def main() -> None:
    """Run the benchmark and print its numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--modes", default="warm,nowrite,cold")
    parser.add_argument("--default-stack", action="store_true",
                        help="bench the stack of the current environment (default BSS_HOME and ports)")
    parser.add_argument("--keep", action="store_true", help="leave the private stack's home in place")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bss-bench-coldstart-"))
    base = dict(os.environ) if args.default_stack else private_stack_env(workdir / "home")
    print(f"cpus={os.cpu_count()}  home={base.get('BSS_HOME', '(default)')}  runs={args.runs}")
    try:
        install = bss(base, "up", "--json")  # initdb, migrations, tokens: once, not timed
        if install.returncode != 0:
            raise SystemExit(f"installing the bench stack failed:\n{install.stdout}\n{install.stderr}")
        for mode in args.modes.split(","):
            if mode in ("warm", "nowrite"):
                timed_up(mode_env(base, "warm", workdir))  # fills the warm cache; not counted
            runs = []
            for i in range(args.runs):
                run = timed_up(mode_env(base, mode, workdir))
                runs.append(run)
                print(f"{mode} run {i + 1}: wall {run['wall_s']:.2f} s, spawn → healthy {run['elapsed_s']:.2f} s "
                      f"(load {run['load1']:.1f})", flush=True)
            summarise(mode, runs)
    finally:
        bss(base, "down")
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
