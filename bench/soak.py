"""Soak: 30 lines × 14 simulated days of daily usage and random top-ups under Temporal time skipping, then the drift.

    .venv/bin/python bench/soak.py                  # 30 lines, 14 days
    .venv/bin/python bench/soak.py --lines 60 --days 28

Everything is private and real, as in the tests: a throwaway embedded PostgreSQL (migrated and
seeded), the time-skipping dev server (`tests/support/temporal.py`), every task queue's worker
and the API on uvicorn in this process. Lines are PLAN_S, opened as the subscription tests open
them; each line's workflow runs on its own virtual clock, driven one day at a time with
`fast_forward` (tests/workflows/soak_helpers.py: a day's data, a top-up with probability 0.2).
Prints the wall time of the 14 days (set-up apart) and, per line, the data balance against
allowance − accepted usage + top-ups, from the database rows and from the API's answers.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# Settings are read once, at first use: a private home, a token, no span store, before any import.
TOKEN = "bench-soak-token-0000000000000000"
os.environ.update({"BSS_ENV": "test", "BSS_HOME": tempfile.mkdtemp(prefix="bss-bench-soak-"),
                   "BSS_SPAN_STORE_ENABLED": "false", "BSS_API_TOKEN_CLI": TOKEN})
os.environ.pop("BSS_DATABASE_URL", None)
os.environ.pop("TEMPORAL_ADDRESS", None)


def cpu(pg_data_dir: Path) -> dict[str, float]:
    """CPU seconds so far of this process (client, API, workers), the Temporal dev server and PostgreSQL."""
    import psutil
    from usage_ingest import cpu_seconds

    me = psutil.Process()
    times = me.cpu_times()
    (temporal,) = [c.pid for c in me.children() if "temporal" in c.name()]
    postmaster = int((pg_data_dir / "postmaster.pid").read_text().split()[0])
    return {"this process": times.user + times.system, **cpu_seconds({"Temporal": temporal, "PostgreSQL": postmaster})}


async def soak_bench(args: argparse.Namespace) -> None:
    """Start the private parts, open the lines, drive them, print timings and drift, stop everything."""
    import httpx

    from tests.support.inprocess import in_process_stack
    from tests.workflows.soak_helpers import OFFERING, drift, drive
    from tests.workflows.subscription_helpers import open_line
    from workflows import queues

    began = time.perf_counter()
    try:
        async with in_process_stack("soak") as stack, httpx.AsyncClient(
                base_url=stack.url, headers={"X-BSS-API-Token": TOKEN}, timeout=60) as api:
            ready = time.perf_counter()
            subs = [await open_line(api, OFFERING) for _ in range(args.lines)]
            opened, cpu0 = time.perf_counter(), cpu(stack.pg.data_dir)
            ledgers = await drive(stack.env, api, stack.engine, queues.SUBSCRIPTIONS, subs, args.days, args.seed)
            driven, cpu1 = time.perf_counter(), cpu(stack.pg.data_dir)
            lines = await drift(stack.engine, ledgers)
        report(args, lines, ledgers, {"start (PostgreSQL, migrate, seed, Temporal, API)": ready - began,
                                      f"open {args.lines} lines": opened - ready,
                                      f"{args.days} simulated days": driven - opened})
        print("  CPU seconds during the simulated days: "
              + ", ".join(f"{name} {cpu1[name] - cpu0[name]:.1f}" for name in cpu0))
    finally:
        shutil.rmtree(os.environ["BSS_HOME"], ignore_errors=True)


def report(args: argparse.Namespace, lines: list, ledgers: list, timings: dict[str, float]) -> None:
    """Print the timings, the per-line table and the totals."""
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"soak: {args.lines} lines × {args.days} days, seed {args.seed}, load average now {load}")
    for what, seconds in timings.items():
        print(f"  {what:<52}{seconds:>7.1f} s")
    print(f"  {'line':<12}{'state':<9}{'remaining MB':>13}{'expected':>10}{'drift':>7}{'client drift':>13}"
          f"{'rejected':>9}{'top-ups':>8}")
    ledger = {item.subscription_id: item for item in ledgers}
    for d in lines:
        print(f"  {d.subscription_id:<12}{d.state:<9}{d.remaining:>13}{d.expected:>10}{d.drift:>7}"
              f"{d.client_drift:>13}{d.rejected:>9}{len(ledger[d.subscription_id].top_ups):>8}")
    print(f"  lines {len(lines)}, non-zero drift (database rows) {sum(d.drift != 0 for d in lines)}, "
          f"(API answers) {sum(d.client_drift != 0 for d in lines)}, total |drift| "
          f"{sum(abs(d.drift) for d in lines)} MB, state inconsistent with balance "
          f"{sum(not d.consistent_state for d in lines)}, blocked at the end {sum(d.state == 'blocked' for d in lines)}")
    print(f"  events rated {sum(x.rated for x in ledgers)}, rejected {sum(x.rejected for x in ledgers)}, "
          f"top-ups {sum(len(x.top_ups) for x in ledgers)}, "
          f"fast-forwards {args.lines * args.days}")


def main() -> None:
    """Parse options and run the soak."""
    import uvloop

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=30)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=1)
    uvloop.run(soak_bench(parser.parse_args()))  # the loop the API runs on in the stack


if __name__ == "__main__":
    main()
