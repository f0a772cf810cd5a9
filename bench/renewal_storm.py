"""10,000 live lines and a renewal storm (issue #18 item 4): memory parked, then every renewal due at once.

    . /tmp/my-stack-env.sh          # BSS_HOME and ports of a fresh private stack
    .venv/bin/bss up --time-skipping && .venv/bin/bss seed
    .venv/bin/python bench/renewal_storm.py --count 10000 --customers 100

Against a running time-skipping stack (`bss up --time-skipping`, any `--workers`):
1. RSS/PSS of the worker process(es), Temporal and PostgreSQL before;
2. `--count` active lines written in one statement (`bench/lines.py bulk`), dealt to `--customers`
   customers made through the API with an approving card on file; every period ends at the same
   instant (business now + 30 days); one SubscriptionWorkflow started per line, as the API starts
   them on this stack (no auto-skip, the stack offset handed over);
3. wait until all are parked on their period timers (search attributes published, the workers quiet),
   memory again, per workflow;
4. the storm: `POST /ops-api/v1/clock/advance` by `--advance` (past every period end: each line's
   reminder and renewal fire), polling the database until every line is in period 2; drain time from
   the advance request, CPU-seconds of each component, load average;
5. the books, per line: approved renewal payments (ours and the gateway simulator's ledger), renewal
   rows, renewal bills, balances reset to the new period; lines not renewed; memory after.
Prints numbers, asserts nothing. The lines stay (a fresh stack per run keeps the figures clean).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psutil
from sqlalchemy import text

PROGRESS = text("""
SELECT count(*) FILTER (WHERE period_number >= 2) AS renewed, count(*) FILTER (WHERE state <> 'active') AS off
  FROM subscription.subscription WHERE customer_id = ANY(:customers)""")
RESET = text("""
SELECT count(*) FROM subscription.subscription s
 WHERE s.customer_id = ANY(:customers) AND s.period_number = 2 AND s.state = 'active'
   AND NOT EXISTS (SELECT 1 FROM subscription.bundle_balance b WHERE b.subscription_id = s.id
                    AND (b.period_start <> s.current_period_start OR b.consumed <> 0))
   AND EXISTS (SELECT 1 FROM subscription.bundle_balance b WHERE b.subscription_id = s.id)""")
PAYMENTS = text("""
SELECT reference, count(*) FILTER (WHERE status = 'approved') AS approved, count(*) AS attempts
  FROM payment.payment WHERE customer_id = ANY(:customers) AND purpose = 'renewal' GROUP BY reference""")
REFUNDS = text("""
SELECT count(*) FROM payment.refund r JOIN payment.payment p ON p.id = r.payment_id
 WHERE p.customer_id = ANY(:customers) AND p.purpose = 'renewal'""")
RENEWALS = text("""
SELECT r.subscription_id, count(*) FROM subscription.renewal r JOIN subscription.subscription s
    ON s.id = r.subscription_id WHERE s.customer_id = ANY(:customers) GROUP BY 1""")
BILLS = text("""
SELECT subscription_id, count(*) FROM billing.customer_bill
 WHERE customer_id = ANY(:customers) AND kind = 'renewal' GROUP BY 1""")
STUCK = text("""
SELECT id, state, period_number, blocked_reason FROM subscription.subscription
 WHERE customer_id = ANY(:customers) AND (period_number < 2 OR state <> 'active') ORDER BY id LIMIT 5""")
LIVE = "WorkflowType = 'SubscriptionWorkflow' AND ExecutionStatus = 'Running' AND NextRenewalAt IS NOT NULL"


def components() -> dict[str, int]:
    """Pids of the stack's worker processes, Temporal and PostgreSQL (supervisor pid files)."""
    from cli.stack.scale import recorded
    from cli.stack.status import collect
    from core.settings import get_settings

    return {row.name: row.pid for row in collect(recorded(get_settings()))  # the scale `bss up` was given
            if row.pid and (row.name.startswith("worker") or row.name in ("temporal", "postgres"))}


def cpu(pid: int) -> float:
    """CPU seconds of a process tree, its exited children (PostgreSQL backends) included (bench/orders.py)."""
    from orders import tree_cpu

    return tree_cpu(pid)


def memory(pids: dict[str, int], label: str) -> dict[str, dict[str, float]]:
    """Print and return RSS/PSS (MB) of each component's process tree."""
    from memory import measure

    taken = {name: measure(pid) for name, pid in pids.items()}
    print(f"{label}: " + "; ".join(f"{n} RSS {m['rss']:.0f} PSS {m['pss']:.0f} MB" for n, m in taken.items()))
    return taken


def load() -> str:
    """The 1/5/15-minute load averages."""
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


async def fetch(query, customers: list[str]) -> list:
    """Run one read with this run's customers bound."""
    from core.db import get_engine

    async with get_engine().connect() as conn:
        return list((await conn.execute(query, {"customers": customers})).all())


async def park(client, pids: dict[str, int], want: int, timeout: float) -> float:
    """Wait until `want` line workflows published their next renewal and the workers are quiet; return the wait."""
    began = time.perf_counter()
    workers = [pid for name, pid in pids.items() if name.startswith("worker")]
    while (live := (await client.count_workflows(LIVE)).count) < want:
        if time.perf_counter() - began > timeout:
            print(f"only {live} of {want} workflows parked after {timeout:.0f} s")
            return time.perf_counter() - began
        await asyncio.sleep(1)
    while time.perf_counter() - began < timeout:  # quiet: < 2 % of a core over 2 s (timers are 30 days away)
        before = sum(map(cpu, workers))
        await asyncio.sleep(2)
        if sum(map(cpu, workers)) - before < 0.04:
            break
    return time.perf_counter() - began


async def advance(duration: str, timeout_s: float) -> dict:
    """Move the stack clock through the ops API (as `bss clock advance` does); return its answer."""
    import httpx

    from core.settings import get_settings

    settings = get_settings()
    async with httpx.AsyncClient(base_url=settings.api_base_url, timeout=timeout_s + 120,
                                 headers={"X-BSS-API-Token": settings.api_token_cli}) as api:
        answer = await api.post("/ops-api/v1/clock/advance",
                                json={"duration": duration, "timeoutSeconds": timeout_s})
    return {"status": answer.status_code, **(answer.json() if answer.headers.get("content-type", "").startswith(
        "application/json") else {"body": answer.text[:300]})}


async def storm(args: argparse.Namespace, pids: dict[str, int], customers: list[str]) -> dict:
    """Advance the clock; poll until every line is renewed (or no progress for `--stall` s); return the timings."""
    count = args.count
    cpu0 = {name: cpu(pid) for name, pid in pids.items()}
    load0, began = load(), time.perf_counter()
    moving = asyncio.create_task(advance(args.advance, args.advance_timeout))
    marks: dict[int, float] = {}
    last, last_change, renewed = -1, began, 0
    while True:
        renewed, off = (await fetch(PROGRESS, customers))[0]
        now = time.perf_counter()
        for pct in (1, 10, 50, 90, 99, 100):
            if pct not in marks and renewed >= count * pct / 100:
                marks[pct] = now - began
        if renewed != last:
            last, last_change = renewed, now
        if renewed >= count or (moving.done() and now - last_change > args.stall):
            break
        if int(now - began) % 15 == 0:
            print(f"  {now - began:6.0f} s: {renewed} renewed, {off} not active, load {load()}", flush=True)
        await asyncio.sleep(1)
    drained = time.perf_counter() - began
    cpu1 = {name: cpu(pid) for name, pid in pids.items()}
    answer = await moving
    return {"drained": drained, "renewed": renewed, "marks": marks, "answer": answer, "load": (load0, load()),
            "cpu": {name: cpu1[name] - cpu0[name] for name in pids}}


def gateway_books(subs: set[str]) -> Counter:
    """Approved charges per line in the gateway simulator's own ledger (keys `sub-{id}:renewal:{n}`)."""
    from core.settings import get_settings

    db = sqlite3.connect(f"file:{get_settings().home / 'payment-gateway.sqlite'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT idempotency_key FROM charge WHERE status = 'approved' "
                          "AND idempotency_key LIKE 'sub-%'").fetchall()
    finally:
        db.close()
    per_line: Counter = Counter()
    for (key,) in rows:
        sub = key.removeprefix("sub-").split(":", 1)[0]
        if sub in subs:
            per_line[sub] += 1
    return per_line


async def books(customers: list[str], subs: list[str]) -> None:
    """Print charges, renewals and bills per line, balances reset, and the lines not renewed."""
    payments = {ref: (approved, attempts) for ref, approved, attempts in await fetch(PAYMENTS, customers)}
    approved = Counter(payments.get(s, (0, 0))[0] for s in subs)
    gateway = gateway_books(set(subs))
    renewals = dict(await fetch(RENEWALS, customers))
    bills = dict(await fetch(BILLS, customers))
    print(f"approved renewal payments per line (ours): {dict(sorted(approved.items()))}; attempts "
          f"{sum(a for _, a in payments.values())}; refunds {(await fetch(REFUNDS, customers))[0][0]}")
    print(f"approved charges per line (gateway ledger): {dict(sorted(Counter(gateway[s] for s in subs).items()))}")
    print(f"renewal rows per line: {dict(sorted(Counter(renewals.get(s, 0) for s in subs).items()))}; "
          f"renewal bills per line: {dict(sorted(Counter(bills.get(s, 0) for s in subs).items()))}")
    print(f"lines in period 2, active, every balance reset to the new period: "
          f"{(await fetch(RESET, customers))[0][0]} of {len(subs)}")
    double = sum(1 for s in subs if payments.get(s, (0, 0))[0] > 1 or gateway[s] > 1)
    print(f"double charges: {double}; stuck (first 5): {await fetch(STUCK, customers) or 'none'}")


def report(result: dict, count: int) -> None:
    """Print the drain, the advance's answer, CPU per component and the floors."""
    answer, spent = result["answer"], result["cpu"]
    marks = ", ".join(f"{p} % {t:.1f} s" for p, t in result["marks"].items())
    print(f"storm: {result['renewed']} of {count} renewed, drained in {result['drained']:.1f} s ({marks}); "
          f"load {result['load'][0]} -> {result['load'][1]}")
    print(f"advance: HTTP {answer.get('status')} in {answer.get('elapsedMs', 0) / 1000:.1f} s, "
          f"workflows {({k: (len(v) if isinstance(v, list) else v) for k, v in answer.get('workflows', {}).items()})}")
    total, renewed = sum(spent.values()), max(result["renewed"], 1)
    print("CPU-s during the storm: " + ", ".join(f"{n} {s:.1f}" for n, s in spent.items())
          + f"; total {total:.1f} = {1000 * total / renewed:.1f} CPU-ms per renewal ({renewed} renewed)")
    cores = psutil.cpu_count() or 1
    print(f"floor on {cores} idle cores: {total / cores:.1f} s for these {renewed}; "
          f"x 10,000 lines: {total / cores * 10_000 / renewed:.0f} s")


async def run(args: argparse.Namespace) -> None:
    """Measure, open and park the lines, measure, storm, check the books."""
    from lines import bulk_customers, bulk_rows, start_workflows

    from core.db import dispose_engines
    from core.temporal import connect

    pids = components()
    client = await connect()
    existing = (await client.count_workflows(LIVE)).count
    print(f"components {pids}; {existing} line workflows already live; load {load()}")
    before = memory(pids, "before")
    t0 = time.perf_counter()
    customers = await bulk_customers(args.customers)
    t1 = time.perf_counter()
    subs = await bulk_rows(args.count, args.offering, customers)
    t2 = time.perf_counter()
    cpu0 = {name: cpu(pid) for name, pid in pids.items()}
    await start_workflows(subs, concurrency=32)
    t3 = time.perf_counter()
    waited = await park(client, pids, existing + args.count, args.park_timeout)
    print(f"{args.customers} customers in {t1 - t0:.1f} s, {args.count} lines in {t2 - t1:.1f} s, workflows "
          f"started in {t3 - t2:.1f} s, all parked {waited:.1f} s later; CPU-s " + ", ".join(
              f"{n} {cpu(p) - cpu0[n]:.1f}" for n, p in pids.items()) + f"; load {load()}")
    parked = memory(pids, f"parked ({(await client.count_workflows(LIVE)).count} live)")
    for name in pids:
        delta = {k: parked[name][k] - before[name][k] for k in ("rss", "pss")}
        print(f"  {name}: RSS +{delta['rss']:.0f} MB ({1024 * delta['rss'] / args.count:.0f} KB per line), "
              f"PSS +{delta['pss']:.0f} MB ({1024 * delta['pss'] / args.count:.0f} KB per line)")
    if args.park_only:
        await dispose_engines()
        return
    result = await storm(args, pids, customers)
    report(result, args.count)
    await books(customers, subs)
    memory(pids, "after the storm")
    await dispose_engines()


def main() -> None:
    """Parse options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=100, help="lines are dealt round-robin to these")
    parser.add_argument("--offering", default="PLAN_M")
    parser.add_argument("--advance", default="30d1h", help="how far the clock moves (past every period end)")
    parser.add_argument("--advance-timeout", type=float, default=600.0, help="the advance's timeoutSeconds")
    parser.add_argument("--park-timeout", type=float, default=900.0)
    parser.add_argument("--stall", type=float, default=60.0, help="stop polling after this long without progress")
    parser.add_argument("--park-only", action="store_true", help="measure memory parked, no storm")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
