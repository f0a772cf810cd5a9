"""Line writes of the subscription workflow: load, block, plan change and its cancel, terminate.

Each write is one unit of work with its audit events, taken under the line's row lock (the same
lock rating takes before it touches a balance, so the two never interleave), re-checks the
policy on the locked row, and is idempotent: a retry that finds its change already made rolls
back and returns the line as it stands. Renewal and VAS writes live in
`activities/subscription_renewal.py` and `activities/subscription_vas.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from temporalio import activity

from activities.catalog import get_offering, resolve_price
from activities.uow import UnitOfWork, unit_of_work
from core import clock, context
from core.db import get_engine
from core.errors import NotFound, PolicyViolation
from domain.ordering import product_order
from domain.subscription import SUBSCRIPTION_MACHINE, SubscriptionState, bundle_balance, remaining, subscription
from domain.subscription_flow import Acting, BalanceView, BlockLine, DropPlanChange, EndLine, LineView, SchedulePlanChange
from domain.subscription_ops import BlockReason, line_price, vas_grant
from policies import subscription as rules
from policies.base import raise_if

Row = dict[str, Any]
SUB = subscription.c


class Unchanged(Exception):
    """Roll back: the write was already made (a retry); the caller returns the line as it is."""


@contextmanager
def acting(cmd: Acting) -> Iterator[None]:
    """Record audit events as the actor and channel that asked for the write."""
    with context.acting_as(context.RequestContext(cmd.actor, cmd.channel, cmd.service_identity)):
        yield


async def lock_line(conn: AsyncConnection, subscription_id: str) -> Row:
    """Load a line `FOR UPDATE`, or raise NotFound."""
    row = (await conn.execute(select(subscription).where(SUB.id == subscription_id).with_for_update())).mappings().first()
    if row is None:
        raise NotFound("subscription", subscription_id)
    return dict(row)


async def line_view(conn: AsyncConnection, subscription_id: str) -> LineView:
    """The line, its balances and the price versions it pays (or will pay)."""
    row = (await conn.execute(select(subscription).where(SUB.id == subscription_id))).mappings().first()
    if row is None:
        raise NotFound("subscription", subscription_id)
    prices = (await conn.execute(select(line_price).where(line_price.c.subscription_id == subscription_id))).first()
    price_id = prices.price_id if prices else None
    if prices is None and row["order_id"]:  # never renewed: it pays what its order snapshotted
        price_id = (await conn.execute(select(product_order.c.offering_price_id)
                                       .where(product_order.c.id == row["order_id"]))).scalar_one_or_none()
    balances = (await conn.execute(select(bundle_balance).where(bundle_balance.c.subscription_id == subscription_id)
                                   .order_by(bundle_balance.c.allowance_type))).mappings().all()
    return LineView(
        subscription_id=row["id"], customer_id=row["customer_id"], state=row["state"],
        blocked_reason=row["blocked_reason"], offering_id=row["offering_id"], price_id=price_id,
        price_minor=row["price_minor"], currency=row["currency"], period_days=row["period_days"],
        period_number=row["period_number"], period_start=row["current_period_start"],
        period_end=row["current_period_end"], pending_offering_id=row["pending_offering_id"],
        pending_price_id=prices.pending_price_id if prices else None,
        pending_price_minor=row["pending_price_minor"], terminated_at=row["terminated_at"],
        balances=[BalanceView(allowance_type=b["allowance_type"], total=b["total"], consumed=b["consumed"],
                              remaining=remaining(b["total"], b["consumed"])) for b in balances])


async def load_view(subscription_id: str) -> LineView:
    """Read the line on a fresh connection (after a write committed or rolled back)."""
    async with get_engine().connect() as conn:
        return await line_view(conn, subscription_id)


async def set_prices(conn: AsyncConnection, subscription_id: str, **values: str | None) -> None:
    """Upsert the price versions a line pays (`price_id`) and will pay (`pending_price_id`)."""
    await conn.execute(insert(line_price).values(subscription_id=subscription_id, updated_at=clock.now(), **values)
                       .on_conflict_do_update(index_elements=[line_price.c.subscription_id],
                                              set_={**values, "updated_at": clock.now()}))


async def change_state(uow: UnitOfWork, row: Row, event: str, reason: str | None, payload: dict[str, Any]) -> None:
    """Move the line through SUBSCRIPTION_MACHINE (block/unblock/terminate) and record why."""
    new_state = SUBSCRIPTION_MACHINE.next(SubscriptionState(row["state"]), event)
    await uow.conn.execute(update(subscription).where(SUB.id == row["id"]).values(
        state=new_state.value, blocked_reason=reason, updated_at=clock.now()))
    past = {"block": "blocked", "unblock": "unblocked", "terminate": "terminated"}[event]
    uow.record(f"subscription.{past}", "subscription", row["id"],
               {"from": row["state"], "to": new_state.value, "reason": reason, **payload})
    row.update(state=new_state.value, blocked_reason=reason)


@activity.defn(name="subscription_load")
async def load_line(subscription_id: str) -> LineView:
    """Return the line as the database has it now."""
    return await load_view(subscription_id)


@activity.defn(name="subscription_block")
async def block_line(cmd: BlockLine) -> LineView:
    """Block the line; an unpaid renewal also overrides an exhaustion block (only a renewal lifts it)."""
    with acting(cmd):
        try:
            async with unit_of_work() as uow:
                row = await lock_line(uow.conn, cmd.subscription_id)
                payload = {"asOf": cmd.as_of.isoformat(), **({"cause": cmd.cause} if cmd.cause else {})}
                if row["state"] == SubscriptionState.BLOCKED:
                    if row["blocked_reason"] == cmd.reason or cmd.reason != BlockReason.RENEWAL_DECLINED:
                        raise Unchanged
                    await uow.conn.execute(update(subscription).where(SUB.id == row["id"]).values(
                        blocked_reason=cmd.reason, updated_at=clock.now()))
                    uow.record("subscription.block_reason_changed", "subscription", row["id"],
                               {"from": row["blocked_reason"], "to": cmd.reason, **payload})
                else:
                    await change_state(uow, row, "block", cmd.reason, payload)
        except Unchanged:
            pass
    return await load_view(cmd.subscription_id)


async def _target_facts(offering_id: str) -> tuple[str | None, bool]:
    """The kind of a plan-change target and whether it exists (sellability is checked by price)."""
    try:
        return (await get_offering(offering_id)).kind.value, True
    except NotFound:
        return None, False


@activity.defn(name="subscription_schedule_plan_change")
async def schedule_plan_change(cmd: SchedulePlanChange) -> LineView:
    """Record a change to another plan at the next renewal, at the target's price now."""
    code = "subscription.plan_change.target_not_sellable"
    kind, known = await _target_facts(cmd.offering_id)
    price = None
    if known and kind == "plan":
        try:
            price = await resolve_price(cmd.offering_id, cmd.as_of, code=code)
        except PolicyViolation:
            price = None
    with acting(cmd):
        try:
            async with unit_of_work() as uow:
                row = await lock_line(uow.conn, cmd.subscription_id)
                if row["pending_offering_id"] == cmd.offering_id:
                    raise Unchanged  # a retry of this very change
                raise_if(rules.check_plan_change(row["id"], row["state"], row["offering_id"], cmd.offering_id,
                                                 row["pending_offering_id"], target_kind=kind,
                                                 target_sellable=price is not None))
                assert price is not None
                await uow.conn.execute(update(subscription).where(SUB.id == row["id"]).values(
                    pending_offering_id=cmd.offering_id, pending_price_minor=price.price_minor,
                    updated_at=clock.now()))
                await set_prices(uow.conn, row["id"], pending_price_id=price.price_id)
                uow.record("subscription.plan_change.scheduled", "subscription", row["id"], {
                    "from": row["offering_id"], "to": cmd.offering_id, "priceId": price.price_id,
                    "priceMinor": price.price_minor, "effectiveAt": row["current_period_end"].isoformat()})
        except Unchanged:
            pass
    return await load_view(cmd.subscription_id)


@activity.defn(name="subscription_cancel_plan_change")
async def cancel_plan_change(cmd: DropPlanChange) -> LineView:
    """Drop the scheduled plan change (nothing to drop is a no-op: a retry)."""
    with acting(cmd):
        try:
            async with unit_of_work() as uow:
                row = await lock_line(uow.conn, cmd.subscription_id)
                if row["pending_offering_id"] is None:
                    raise Unchanged
                await _drop_pending(uow, row, "cancelled")
        except Unchanged:
            pass
    return await load_view(cmd.subscription_id)


async def _drop_pending(uow: UnitOfWork, row: Row, why: str) -> None:
    await uow.conn.execute(update(subscription).where(SUB.id == row["id"]).values(
        pending_offering_id=None, pending_price_minor=None, updated_at=clock.now()))
    await set_prices(uow.conn, row["id"], pending_price_id=None)
    uow.record(f"subscription.plan_change.{why}", "subscription", row["id"], {"to": row["pending_offering_id"]})


@activity.defn(name="subscription_terminate")
async def terminate_line(cmd: EndLine) -> LineView:
    """Mark the line terminated at `as_of`: pending change dropped, VAS grants lapsed."""
    with acting(cmd):
        try:
            async with unit_of_work() as uow:
                row = await lock_line(uow.conn, cmd.subscription_id)
                if row["state"] == SubscriptionState.TERMINATED:
                    raise Unchanged
                raise_if(rules.check_terminate(row["id"], row["state"]))
                if row["pending_offering_id"] is not None:
                    await _drop_pending(uow, row, "cancelled")
                await uow.conn.execute(update(vas_grant).where(
                    vas_grant.c.subscription_id == row["id"], vas_grant.c.expired_at.is_(None))
                    .values(expired_at=cmd.as_of))
                await change_state(uow, row, "terminate", None, {"reason": cmd.reason, "asOf": cmd.as_of.isoformat()})
                await uow.conn.execute(update(subscription).where(SUB.id == row["id"]).values(
                    terminated_at=cmd.as_of))
        except Unchanged:
            pass
    return await load_view(cmd.subscription_id)
