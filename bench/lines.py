"""Make many active lines on a running stack, fast, and start their subscription workflows.

`open` makes real lines the way activation leaves them: a customer through the API (individual,
customer, KYC, card), then the order row, number and eSIM reservation and `activate_line` run
in this process against the stack's database (the test factories' `open_line`, no order saga,
so ~0.1 s per line instead of ~1.2 s). `bulk` writes subscription and balance rows for
`--customers` customers (each with a card on file, lines dealt round-robin) in a single statement,
with numbers outside the seeded pool (the pool has 1,000), for benches that need thousands of rows
and no inventory. Either way `--start` starts one SubscriptionWorkflow per line on the stack's
subscriptions queue, as an order would (on a time-skipping stack: auto-skip off, the stack's clock
offset handed over, as the API starts them, so `bss clock advance` moves them).

    . /tmp/my-stack-env.sh   # BSS_HOME and ports of the stack
    .venv/bin/python bench/lines.py open 200 --offering PLAN_L --start --out /tmp/lines.txt
    .venv/bin/python bench/lines.py bulk 1000 --start
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

# A block of numbers no seeded range uses (the pool is 1,000 numbers from MSISDN_FIRST).
BULK_MSISDN_BASE = 70_000_000

BULK_LINES = text("""
WITH subs AS (
  INSERT INTO subscription.subscription (id, customer_id, offering_id, msisdn, state, price_minor, currency,
         period_days, period_number, current_period_start, current_period_end, activated_at, created_at, updated_at)
  SELECT 'SUB-' || lpad(n::text, 6, '0'), (CAST(:customers AS text[]))[1 + n % :customer_count], :offering,
         (:base + n)::text, 'active', :price_minor, :currency, :period_days, 1, CAST(:now AS timestamptz),
         CAST(:now AS timestamptz) + make_interval(days => :period_days), CAST(:now AS timestamptz), now(), now()
    FROM (SELECT nextval('subscription.subscription_seq') AS n FROM generate_series(1, :count)) AS ids
  RETURNING id, current_period_start, current_period_end
), prices AS (
  INSERT INTO subscription.line_price (subscription_id, price_id, updated_at) SELECT id, :price_id, now() FROM subs
), balances AS (
  INSERT INTO subscription.bundle_balance (subscription_id, allowance_type, total, consumed, period_start,
         period_end, updated_at)
  SELECT s.id, a.allowance_type, a.quantity, 0, s.current_period_start, s.current_period_end, now()
    FROM subs s CROSS JOIN catalog.bundle_allowance a WHERE a.offering_id = :offering
)
SELECT id FROM subs ORDER BY id""")


async def open_lines(count: int, offering: str, concurrency: int) -> list[str]:
    """Open `count` real lines (one new customer each), `concurrency` at a time; return their subscription ids."""
    import httpx

    from core.settings import get_settings
    from tests.workflows.subscription_helpers import open_line

    settings = get_settings()
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=settings.api_base_url, timeout=60,
                                 headers={"X-BSS-API-Token": settings.api_token_cli}) as api:
        async def one() -> str:
            async with gate:
                return await open_line(api, offering)

        return list(await asyncio.gather(*(one() for _ in range(count))))


async def bulk_lines(count: int, offering: str, customers: int = 1) -> list[str]:
    """Write `count` active lines of `offering` for `customers` new customers in one statement; return their ids."""
    ids = await bulk_customers(customers)
    return await bulk_rows(count, offering, ids)


async def bulk_customers(count: int, concurrency: int = 8) -> list[str]:
    """Make `count` KYC-verified customers with an approving card on file, through the API."""
    import httpx

    from core.settings import get_settings
    from tests.support.factories import ready_customer

    settings = get_settings()
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=settings.api_base_url, timeout=60,
                                 headers={"X-BSS-API-Token": settings.api_token_cli}) as api:
        async def one() -> str:
            async with gate:
                return await ready_customer(api)

        return list(await asyncio.gather(*(one() for _ in range(count))))


async def bulk_rows(count: int, offering: str, customers: list[str]) -> list[str]:
    """Write `count` active lines of `offering`, dealt round-robin to `customers`, in one statement."""
    from activities.catalog import resolve_price
    from activities.stack_clock import read_offset
    from core import clock
    from core.db import get_engine

    clock.set_offset(await read_offset())  # business time: a time-skipping stack may have moved on
    price = await resolve_price(offering, clock.now())
    async with get_engine().begin() as conn:
        rows = await conn.execute(BULK_LINES, {
            "count": count, "customers": customers, "customer_count": len(customers), "offering": offering,
            "base": BULK_MSISDN_BASE, "now": clock.now(),
            "price_id": price.price_id, "price_minor": price.price_minor, "currency": price.currency,
            "period_days": price.period_days})
        return [r.id for r in rows]


async def start_workflows(subscription_ids: list[str], concurrency: int = 16) -> None:
    """Start each line's SubscriptionWorkflow on the stack's subscriptions queue (as an order does)."""
    from activities.stack_clock import read_offset
    from core.settings import get_settings
    from core.temporal import connect, scenario_skipper
    from domain.scenario_time import ScenarioClock
    from domain.subscription_flow import SubscriptionStart
    from workflows import queues
    from workflows.subscription import SubscriptionWorkflow, subscription_workflow_id

    client = await connect()
    scenario = None
    if (get_settings().run_dir / "time-skipping").exists():
        # As the API starts them on a time-skipping stack: no auto-skip, business time = virtual + offset.
        client, scenario = scenario_skipper(client).client, ScenarioClock(offset=await read_offset())
    gate = asyncio.Semaphore(concurrency)

    async def one(sub: str) -> None:
        async with gate:
            await client.start_workflow(SubscriptionWorkflow.run,
                                        SubscriptionStart(subscription_id=sub, scenario_clock=scenario),
                                        id=subscription_workflow_id(sub), task_queue=queues.SUBSCRIPTIONS)

    await asyncio.gather(*(one(s) for s in subscription_ids))


async def msisdns(subscription_ids: list[str]) -> list[str]:
    """The numbers of the given lines, in the same order."""
    from core.db import get_engine

    async with get_engine().connect() as conn:
        found = dict((await conn.execute(text("SELECT id, msisdn FROM subscription.subscription WHERE id = ANY(:ids)"),
                                         {"ids": subscription_ids})).all())
    return [found[s] for s in subscription_ids]


async def main(args: argparse.Namespace) -> None:
    """Make the lines, optionally start their workflows, and write `subscription_id msisdn` lines."""
    from core.db import dispose_engines

    began = time.perf_counter()
    if args.how == "open":
        subs = await open_lines(args.count, args.offering, args.concurrency)
    else:
        subs = await bulk_lines(args.count, args.offering, args.customers)
    made = time.perf_counter() - began
    if args.start:
        await start_workflows(subs)
    numbers = await msisdns(subs)
    await dispose_engines()
    listing = "".join(f"{s} {m}\n" for s, m in zip(subs, numbers, strict=True))
    if args.out:
        Path(args.out).write_text(listing)
    else:
        sys.stdout.write(listing)
    print(f"{len(subs)} {args.offering} lines ({args.how}) in {made:.1f} s"
          f"{f', workflows started in {time.perf_counter() - began - made:.1f} s' if args.start else ''}",
          file=sys.stderr)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("how", choices=("open", "bulk"), help="real lines (customer each) or bulk rows")
    parser.add_argument("count", type=int)
    parser.add_argument("--offering", default="PLAN_L")
    parser.add_argument("--concurrency", type=int, default=8, help="lines opened at once (open)")
    parser.add_argument("--customers", type=int, default=1, help="customers the lines are dealt to (bulk)")
    parser.add_argument("--start", action="store_true", help="start each line's SubscriptionWorkflow")
    parser.add_argument("--out", help="write `subscription_id msisdn` lines here instead of stdout")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
