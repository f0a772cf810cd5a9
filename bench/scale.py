"""Scale-out on one machine (#18 item 3): completed orders/s and CPU per order, 1 API + 1 worker vs 2 + 2, A/B.

    .venv/bin/python bench/scale.py --concurrency 20 --seconds 20 --rounds 2

One private stack (own BSS_HOME, free ports), seeded once. Each round runs every configuration in
turn on the same database: `bss up --api-procs A --workers W` re-scales the running stack (the API
restarts with A servers, the worker layout changes), a warm-up order per client, then CONCURRENCY
clients place orders back to back for SECONDS (POST productOrder, poll every 200 ms until it ends).
Reported per phase: completed orders/s, wall p50/p90, CPU seconds per order summed over every stack
process (API, workers, Temporal, PostgreSQL; from the supervisor's pid files, children included),
the bench client's own CPU, and how busy the machine's cores were (psutil, whole machine, so other
load shows there too). Interleaving A/B/A/B keeps a drift in the machine's load out of the ratio.
Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from orders import make_customer, one_order, tree_cpu

from cli.stack.procs import read_record

BSS = Path(sys.executable).with_name("bss")
PORTS = ("BSS_API_PORT", "BSS_SELF_SERVE_PORT", "BSS_CSR_PORT", "BSS_TEMPORAL_PORT", "BSS_TEMPORAL_UI_PORT")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BSS_", "TEMPORAL_", "OTEL_"))}
    sockets = [socket.socket() for _ in PORTS]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    env |= {name: str(sock.getsockname()[1]) for name, sock in zip(PORTS, sockets)}
    for sock in sockets:
        sock.close()
    return env | {"BSS_HOME": str(home)}


def bss(env: dict[str, str], *args: str) -> str:
    """Run `bss ARGS…` against the bench stack; raise with its output when it fails."""
    done = subprocess.run([str(BSS), *args], env=env, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bss {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def stack_cpu(run_dir: Path) -> dict[str, float]:
    """CPU seconds used so far per component (each worker process by its name), children included."""
    used: dict[str, float] = {}
    for pid_file in run_dir.glob("*.pid"):
        record = read_record(run_dir, pid_file.stem)
        if record is None:
            continue
        name = pid_file.stem
        try:
            total = tree_cpu(record.pid)
        except psutil.Error:
            continue
        used[name] = used.get(name, 0.0) + total
    return used


def own_cpu() -> float:
    t = psutil.Process().cpu_times()
    return t.user + t.system


async def phase(api: httpx.AsyncClient, customers: list[str], seconds: float) -> tuple[list[float], int]:
    """Every client orders back to back until `seconds` pass; return the walls of completed orders and failures."""
    stop_at = time.perf_counter() + seconds
    walls: list[float] = []
    failed = 0

    async def client(customer: str) -> None:
        nonlocal failed
        while time.perf_counter() < stop_at:
            wall, _, state = await one_order(api, customer, 0.2)
            if state == "completed":
                walls.append(wall)
            else:
                failed += 1

    await asyncio.gather(*(client(c) for c in customers))
    return walls, failed


async def run(env: dict[str, str], configs: list[tuple[int, int]], rounds: int, concurrency: int,
              seconds: float) -> None:
    run_dir = Path(env["BSS_HOME"]) / "run"
    token = dict(line.split("=", 1) for line in (Path(env["BSS_HOME"]) / "tokens.env").read_text().splitlines()
                 if "=" in line and not line.startswith("#"))["BSS_API_TOKEN_CLI"]
    base = f"http://127.0.0.1:{env['BSS_API_PORT']}"
    results: dict[tuple[int, int], list[tuple[float, float]]] = {c: [] for c in configs}
    async with httpx.AsyncClient(base_url=base, timeout=120, headers={"X-BSS-API-Token": token},
                                 limits=httpx.Limits(max_connections=concurrency * 2)) as api:
        tag = format(int(time.time()), "x")
        customers = await asyncio.gather(*(make_customer(api, i, tag) for i in range(concurrency)))
        for r in range(rounds):
            for apis, workers in configs:
                t0 = time.perf_counter()
                await asyncio.to_thread(bss, env, "up", "--api-procs", str(apis), "--workers", str(workers),
                                        "--timeout", "150")
                up_s = time.perf_counter() - t0
                await asyncio.gather(*(one_order(api, c, 0.2) for c in customers))  # warm the new processes
                cpu0, mine0, machine0 = stack_cpu(run_dir), own_cpu(), psutil.cpu_times()
                started = time.perf_counter()
                walls, failed = await phase(api, customers, seconds)
                elapsed = time.perf_counter() - started
                cpu1, mine, machine = stack_cpu(run_dir), own_cpu() - mine0, psutil.cpu_times()
                parts = {k: v - cpu0.get(k, 0.0) for k, v in cpu1.items()
                         if k in ("api", "temporal", "postgres") or k.startswith("worker")}
                cpu = sum(parts.values())
                idle = (machine.idle + getattr(machine, "iowait", 0)) - (machine0.idle + getattr(machine0, "iowait", 0))
                busy = 1 - idle / (sum(machine) - sum(machine0))
                n = len(walls)
                rate = n / elapsed
                results[(apis, workers)].append((rate, cpu / max(n, 1)))
                walls.sort()
                print(f"round {r + 1} {apis} API + {workers} worker (re-scaled in {up_s:.1f} s): {n} orders "
                      f"({failed} not completed) in {elapsed:.1f} s → {rate:.2f} orders/s; wall p50 "
                      f"{statistics.median(walls) * 1000:.0f} ms p90 {walls[int(0.9 * (n - 1))] * 1000:.0f} ms; "
                      f"stack CPU {cpu / max(n, 1):.3f} s/order ({cpu / elapsed:.2f} cores, "
                      f"{rate / max(cpu / elapsed, 1e-9):.2f} orders/s per core used), bench client "
                      f"{mine / elapsed:.2f} cores; machine busy {busy * 100:.0f} % of {psutil.cpu_count()} cores, "
                      f"load {os.getloadavg()[0]:.1f}\n  CPU-s/order "
                      + "  ".join(f"{k} {v / max(n, 1):.3f}" for k, v in sorted(parts.items())), flush=True)
    print()
    first = configs[0]
    for config, runs in results.items():
        rate = statistics.mean(r for r, _ in runs)
        ratio = rate / statistics.mean(r for r, _ in results[first])
        print(f"{config[0]} API + {config[1]} worker: {rate:.2f} orders/s (×{ratio:.2f} of {first[0]}+{first[1]}), "
              f"{statistics.mean(c for _, c in runs):.3f} CPU-s/order over {len(runs)} rounds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per phase")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--configs", default="1x1,2x2", help="API processes x worker processes, comma-separated")
    args = parser.parse_args()
    configs = [tuple(int(n) for n in c.split("x")) for c in args.configs.split(",")]
    home = Path(tempfile.mkdtemp(prefix="bss-scale-")) / "home"
    env = _env(home)
    try:
        bss(env, "up", "--api-procs", str(configs[0][0]), "--workers", str(configs[0][1]), "--timeout", "150")
        bss(env, "seed")
        asyncio.run(run(env, configs, args.rounds, args.concurrency, args.seconds))  # type: ignore[arg-type]
    finally:
        subprocess.run([str(BSS), "down"], env=env, capture_output=True, timeout=120, check=False)


if __name__ == "__main__":
    main()
