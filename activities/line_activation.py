"""Create the subscription an activated order produced, with full bundle balances."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import DateTime, Row, literal, select
from sqlalchemy.dialects.postgresql import insert
from temporalio import activity

from activities.uow import UnitOfWork, unit_of_work
from core import clock
from core.errors import NotFound
from domain.catalog import bundle_allowance
from domain.ids import IdKind
from domain.ordering import product_order
from domain.ordering_flow import ActivateLine, LineActivated
from domain.subscription import SubscriptionState, bundle_balance, remaining, subscription
from domain.subscription_flow import BalanceView, LineView


@activity.defn(name="line_activate")
async def activate_line(req: ActivateLine) -> LineActivated:
    """Create the active subscription of an order; a retry returns the line already created."""
    async with unit_of_work() as uow:
        existing = (await uow.conn.execute(select(subscription).where(subscription.c.order_id == req.order_id))).first()
        if existing:
            uow.record("subscription.activation.replayed", "subscription", existing.id, {"orderId": req.order_id})
            return LineActivated(subscription_id=existing.id, msisdn=existing.msisdn,
                                 period_start=existing.current_period_start,
                                 period_end=existing.current_period_end)
        line = await activate_line_in(uow, req)
        return LineActivated(subscription_id=line.subscription_id, msisdn=req.msisdn,
                             period_start=line.period_start, period_end=line.period_end)


async def activate_line_in(uow: UnitOfWork, req: ActivateLine, order: Row | None = None) -> LineView:
    """Inside `uow`, create the order's active subscription with full balances (the caller checked none exists).

    `order` is the order row when the caller has it already (no second read). Returns the line as
    `activities.subscription.line_view` would read it back, without reading it.
    """
    conn = uow.conn
    if order is None:
        order = (await conn.execute(select(product_order).where(product_order.c.id == req.order_id))).first()
    if order is None:
        raise NotFound("order", req.order_id)
    now = clock.now()
    period_end = now + timedelta(days=order.period_days)
    sub_id = await uow.next_id(IdKind.SUBSCRIPTION)
    await conn.execute(insert(subscription).values(
        id=sub_id, customer_id=order.customer_id, order_id=order.id, offering_id=order.offering_id,
        msisdn=req.msisdn, iccid=req.iccid, state=SubscriptionState.ACTIVE.value,
        price_minor=order.price_minor, currency=order.currency, period_days=order.period_days,
        period_number=1, current_period_start=now, current_period_end=period_end,
        activated_at=now, created_at=now, updated_at=now))
    # Full balances straight from the offering's allowances: one INSERT … SELECT, not a read and a write.
    ba, bb = bundle_allowance, bundle_balance
    full = select(literal(sub_id), ba.c.allowance_type, ba.c.quantity, literal(0), literal(now, DateTime(timezone=True)),
                  literal(period_end, DateTime(timezone=True)), literal(now, DateTime(timezone=True))).where(
        ba.c.offering_id == order.offering_id)
    allowances = (await conn.execute(insert(bb).from_select(
        [bb.c.subscription_id, bb.c.allowance_type, bb.c.total, bb.c.consumed, bb.c.period_start, bb.c.period_end,
         bb.c.updated_at], full).returning(bb.c.allowance_type, bb.c.total))).all()
    uow.record("subscription.activated", "subscription", sub_id, {
        "orderId": order.id, "customerId": order.customer_id, "offeringId": order.offering_id,
        "priceMinor": order.price_minor, "periodEnd": period_end.isoformat(),
        "balances": {a.allowance_type: a.total for a in allowances}})
    return LineView(
        subscription_id=sub_id, customer_id=order.customer_id, state=SubscriptionState.ACTIVE.value,
        offering_id=order.offering_id, price_id=order.offering_price_id, price_minor=order.price_minor,
        currency=order.currency, period_days=order.period_days, period_number=1, period_start=now,
        period_end=period_end, balances=[
            BalanceView(allowance_type=a.allowance_type, total=a.total, consumed=0, remaining=remaining(a.total, 0))
            for a in sorted(allowances, key=lambda a: a.allowance_type)])
