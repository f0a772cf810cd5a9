"""Rebuild a line's bundle from its plan and its live VAS grants (inside the caller's unit of work).

One rule for every write that changes what a line may use (renewal, VAS grant, VAS expiry, adjustment):
total = the plan's allowance plus every live grant of that type plus this period's balance adjustments
(TMF654 adjustBalance), unlimited if the plan or a grant is. The
caller holds the line lock; the balance rows are locked here too, in allowance order, before
they change, so a usage record being rated waits for (and then sees) the new totals.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core import clock
from domain.balance import balance_adjustment
from domain.catalog import bundle_allowance
from domain.subscription import UNLIMITED, AllowanceType, bundle_balance, subscription
from domain.subscription_ops import vas_grant

BB = bundle_balance.c


def add_quantity(total: int, quantity: int) -> int:
    """Add an allowance to a total; unlimited absorbs everything."""
    return UNLIMITED if UNLIMITED in (total, quantity) else total + quantity


async def live_grants(conn: AsyncConnection, subscription_id: str) -> list[Any]:
    """The VAS grants of a line that have not lapsed, oldest first."""
    return list((await conn.execute(select(vas_grant).where(
        vas_grant.c.subscription_id == subscription_id, vas_grant.c.expired_at.is_(None))
        .order_by(vas_grant.c.id))).mappings())


async def entitlements(conn: AsyncConnection, subscription_id: str, offering_id: str,
                       period_start: dt.datetime | None = None) -> dict[str, int]:
    """What the line may use this period per allowance type: plan + live grants (+ the period's adjustments)."""
    totals = {r.allowance_type: r.quantity for r in await conn.execute(
        select(bundle_allowance.c.allowance_type, bundle_allowance.c.quantity)
        .where(bundle_allowance.c.offering_id == offering_id))}
    for grant in await live_grants(conn, subscription_id):
        for allowance_type, quantity in grant["allowances"].items():
            totals[allowance_type] = add_quantity(totals.get(allowance_type, 0), quantity)
    if period_start is not None:
        adjusted = await conn.execute(
            select(balance_adjustment.c.allowance_type, func.sum(balance_adjustment.c.quantity))
            .where(balance_adjustment.c.subscription_id == subscription_id,
                   balance_adjustment.c.period_start == period_start)
            .group_by(balance_adjustment.c.allowance_type))
        for allowance_type, quantity in adjusted:
            if totals.get(allowance_type, 0) != UNLIMITED:  # an adjustment is refused on unlimited; a pass may come later
                totals[allowance_type] = max(totals.get(allowance_type, 0) + int(quantity), 0)
    return totals


async def rebuild(conn: AsyncConnection, subscription_id: str, offering_id: str, *,
                  period: tuple[dt.datetime, dt.datetime] | None = None) -> dict[str, tuple[int, int]]:
    """Set every balance total from plan + grants; with `period`, start it afresh (consumed 0).

    Returns {allowance type: (total, consumed)} after the change. Consumption never exceeds a
    finite total (the table's check): a lapsed allowance leaves at most an exhausted balance.
    """
    rows = {r["allowance_type"]: dict(r) for r in (await conn.execute(
        select(bundle_balance).where(BB.subscription_id == subscription_id)
        .order_by(BB.allowance_type).with_for_update())).mappings()}
    # Adjustments count in the period they were made in: a new period starts without them.
    start = period[0] if period else next((r["period_start"] for r in rows.values()), None)
    totals = await entitlements(conn, subscription_id, offering_id, start)
    now = clock.now()
    result = {}
    for allowance_type in sorted(set(totals) | set(rows)):
        total = totals.get(allowance_type, 0)
        existing = rows.get(allowance_type)
        consumed = 0 if period or existing is None else existing["consumed"]
        if total != UNLIMITED:
            consumed = min(consumed, total)
        if existing is None:
            start, end = period or await _current_period(conn, subscription_id)
            await conn.execute(insert(bundle_balance).values(
                subscription_id=subscription_id, allowance_type=allowance_type, total=total, consumed=consumed,
                period_start=start, period_end=end, updated_at=now))
        else:
            values: dict[str, Any] = {"total": total, "consumed": consumed, "updated_at": now}
            if period:
                values.update(period_start=period[0], period_end=period[1])
            await conn.execute(update(bundle_balance).where(
                BB.subscription_id == subscription_id, BB.allowance_type == allowance_type).values(**values))
        result[allowance_type] = (total, consumed)
    return result


async def _current_period(conn: AsyncConnection, subscription_id: str) -> tuple[dt.datetime, dt.datetime]:
    row = (await conn.execute(select(subscription.c.current_period_start, subscription.c.current_period_end)
                              .where(subscription.c.id == subscription_id))).one()
    return row.current_period_start, row.current_period_end


def data_exhausted(balances: dict[str, tuple[int, int]]) -> bool:
    """True when the data allowance is finite and used up (the state that blocks a line)."""
    total, consumed = balances.get(AllowanceType.DATA.value, (UNLIMITED, 0))
    return total != UNLIMITED and consumed >= total


async def data_consumed(conn: AsyncConnection, subscription_id: str) -> int:
    """Data consumed so far this period (MB)."""
    return (await conn.execute(select(BB.consumed).where(
        BB.subscription_id == subscription_id, BB.allowance_type == AllowanceType.DATA.value))).scalar_one_or_none() or 0


async def set_data_consumed(conn: AsyncConnection, subscription_id: str, consumed: int) -> None:
    """Set data consumption (restoring it when an unlimited pass lapses: usage during it was free)."""
    await conn.execute(update(bundle_balance).where(
        BB.subscription_id == subscription_id, BB.allowance_type == AllowanceType.DATA.value)
        .values(consumed=consumed, updated_at=clock.now()))
