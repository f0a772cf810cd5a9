"""Worker and Temporal memory with 1,000 live subscription workflows idle on their period timers.

    . /tmp/my-stack-env.sh        # BSS_HOME and ports of a freshly started, seeded private stack
    .venv/bin/python bench/workflow_memory.py              # 1,000 lines
    .venv/bin/python bench/workflow_memory.py --count 2000

Against a running stack (`bss up` + `bss seed`), measuring the stack's own worker process
(every queue, the SDK's default sticky cache of 1,000 workflows) and the Temporal dev server:
1. RSS/PSS/USS of both before;
2. `--count` active PLAN_M lines written in bulk (`bench/lines.py bulk`: one customer, one
   statement, numbers outside the seeded pool) and one SubscriptionWorkflow started per line;
3. wait until every workflow has loaded its line and published its search attributes (visibility
   count) and the worker's CPU has gone quiet: all are parked on their 30-day timers;
4. RSS/PSS/USS again, the difference per workflow, and again after `--settle` seconds.
Prints numbers, asserts nothing. The workflows stay running (the lines are real rows).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psutil

LIVE = ("WorkflowType = 'SubscriptionWorkflow' AND ExecutionStatus = 'Running' AND NextRenewalAt IS NOT NULL")


def components() -> dict[str, int]:
    """Pids of the worker and Temporal server of the stack the settings point at."""
    from cli.stack.status import collect
    from core.settings import get_settings

    return {row.name: row.pid for row in collect(get_settings()) if row.name in ("worker", "temporal") and row.pid}


def snapshot(pids: dict[str, int], label: str) -> dict[str, dict[str, float]]:
    """Print and return RSS/PSS/USS (MB) of each component's process tree."""
    from memory import measure

    taken = {name: measure(pid) for name, pid in pids.items()}
    print(f"{label}: " + "; ".join(f"{name} RSS {m['rss']:.1f} PSS {m['pss']:.1f} USS {m['uss']:.1f} MB"
                                  for name, m in taken.items()))
    return taken


def cpu(pid: int) -> float:
    """User+system CPU seconds of one process."""
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


async def wait_idle(client, count: int, worker_pid: int, timeout: float) -> float:
    """Wait until `count` subscription workflows have published and the worker is quiet; return the wait."""
    began = time.perf_counter()
    while (live := (await client.count_workflows(LIVE)).count) < count:
        if time.perf_counter() - began > timeout:
            print(f"only {live} of {count} workflows published their attributes after {timeout:.0f} s")
            break
        await asyncio.sleep(0.5)
    # Quiet: under 2 % of a core over two seconds (timers are 30 days away).
    while time.perf_counter() - began < timeout:
        before = cpu(worker_pid)
        await asyncio.sleep(2)
        if cpu(worker_pid) - before < 0.04:
            break
    return time.perf_counter() - began


async def run(args: argparse.Namespace) -> None:
    """Measure, start the workflows, wait, measure again."""
    from lines import bulk_lines, start_workflows

    from core.db import dispose_engines
    from core.temporal import connect

    pids = components()
    client = await connect()
    existing = (await client.count_workflows(LIVE)).count
    load0 = "/".join(f"{x:.2f}" for x in os.getloadavg())
    before = snapshot(pids, f"before ({existing} subscription workflows already live)")
    cpu0 = cpu(pids["worker"])
    t0 = time.perf_counter()
    subs = await bulk_lines(args.count, args.offering)
    t1 = time.perf_counter()
    await start_workflows(subs, concurrency=32)
    t2 = time.perf_counter()
    waited = await wait_idle(client, existing + args.count, pids["worker"], args.timeout)
    print(f"{args.count} lines written in {t1 - t0:.1f} s, workflows started in {t2 - t1:.1f} s, all parked "
          f"{waited:.1f} s after the last start; worker CPU {cpu(pids['worker']) - cpu0:.1f} s; "
          f"load {load0} -> {'/'.join(f'{x:.2f}' for x in os.getloadavg())}")
    after = snapshot(pids, f"after ({(await client.count_workflows(LIVE)).count} live, sticky cache 1000 = SDK "
                           "default max_cached_workflows)")
    for name in pids:
        for kind in ("rss", "pss", "uss"):
            delta = after[name][kind] - before[name][kind]
            print(f"  {name} {kind.upper()} +{delta:.1f} MB = {1024 * delta / args.count:.1f} KB per workflow")
    await asyncio.sleep(args.settle)
    snapshot(pids, f"{args.settle:.0f} s later")
    await dispose_engines()


def main() -> None:
    """Parse options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--offering", default="PLAN_M")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up waiting for idle after this")
    parser.add_argument("--settle", type=float, default=10.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
