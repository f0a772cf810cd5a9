"""The line's lifecycle on real Temporal (time skipping driven by `fast_forward`) and real PostgreSQL."""

from __future__ import annotations

from activities.catalog_admin import NewMigration, NewPrice, add_price, migrate_price
from domain.catalog import PriceType
from domain.subscription_flow import ChangePlan, PurchaseVas, RenewNow
from tests.workflows.subscription_helpers import (
    GB, balances, bills, charges, days, fast_forward, line, open_line, start_line, sub_queue,  # noqa: F401
)
from workflows.subscription import SubscriptionWorkflow

PLAN_M = {"data": (30 * GB, 0), "voice": (-1, 0), "sms": (-1, 0), "data_roaming": (500, 0)}


async def test_renewal_charges_the_snapshot_price_even_after_a_catalog_reprice(seeded_api, seeded_db, temporal_env,
                                                                               sub_queue):
    sub = await open_line(seeded_api, "PLAN_M")
    await add_price(NewPrice(offering_id="PLAN_M", name="Standard promo", price_minor=1900, currency="SGD",
                             price_type=PriceType.RECURRING, period_days=30))
    handle = await start_line(temporal_env, sub_queue, sub)
    await fast_forward(temporal_env, handle, days=30, hours=1)
    snap = await handle.query(SubscriptionWorkflow.snapshot)
    assert (snap.renewals, snap.line.period_number, snap.line.state) == (1, 2, "active")
    assert await charges(seeded_db, sub) == [(f"sub-{sub}:renewal:2", 2500)]
    assert await bills(seeded_db, sub) == [("renewal", f"sub-{sub}:renewal:2", 2500)]
    assert await balances(seeded_db, sub) == PLAN_M
    row = await line(seeded_db, sub)
    assert (row["period_number"], row["price_minor"]) == (2, 2500)
    assert row["current_period_end"] - row["current_period_start"] == days(30)
