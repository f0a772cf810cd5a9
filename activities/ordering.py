"""Product order writes: accept an order (API), record its milestones and its end (workflow)."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import Row, case, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from temporalio import activity

from activities.uow import UnitOfWork, unit_of_work
from core import clock, context
from core.db import get_engine
from core.errors import NotFound
from domain.catalog import PriceSnapshot
from domain.customer import customer
from domain.ids import IdKind
from domain.inventory import msisdn
from domain.ordering import ORDER_MACHINE, OrderState, OrderStep, product_order
from domain.ordering_flow import EndOrder, OrderStepUpdate
from domain.payment import payment_method
from policies.base import raise_if
from policies.ordering import OrderFacts, check_order_create


class NewOrder(BaseModel):
    """What a client asks for."""

    customer_id: str
    offering_id: str
    external_id: str | None = None
    requested_msisdn: str | None = None


async def load_order_facts(conn: AsyncConnection, req: NewOrder, sellable: bool) -> OrderFacts:
    """Load what the create-order rules need (customer, cards, requested number), in one round trip."""
    cards = select(func.count()).select_from(payment_method).where(
        payment_method.c.customer_id == req.customer_id, payment_method.c.state == "active").scalar_subquery()
    number = select(msisdn.c.state).where(msisdn.c.number == req.requested_msisdn).scalar_subquery()
    # FOR SHARE: a concurrent close of this customer waits until the order is in (or fails).
    cust = (await conn.execute(select(customer.c.status, customer.c.kyc_status, cards.label("cards"),
                                      number.label("number_state"))
                               .where(customer.c.id == req.customer_id).with_for_update(read=True, of=customer))).first()
    if cust is None:  # an unknown customer: the rules refuse it, and still say what else is wrong
        active_cards = (await conn.execute(select(cards))).scalar_one()
        number_state = (await conn.execute(select(number))).scalar_one_or_none() if req.requested_msisdn else None
    else:
        active_cards, number_state = cust.cards, cust.number_state if req.requested_msisdn else None
    return OrderFacts(customer_id=req.customer_id, customer_status=cust.status if cust else None,
                      kyc_status=cust.kyc_status if cust else None, active_cards=active_cards,
                      offering_id=req.offering_id, offering_sellable=sellable,
                      requested_msisdn=req.requested_msisdn, requested_msisdn_state=number_state)


async def find_by_external_id(conn: AsyncConnection, external_id: str) -> dict | None:
    """Return the order a client already made with this request id, if any."""
    row = (await conn.execute(select(product_order).where(product_order.c.external_id == external_id))).first()
    return dict(row._mapping) if row else None


async def load_order(order_id: str) -> dict:
    """Read one order row on its own connection, or raise 404."""
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(product_order).where(product_order.c.id == order_id))).first()
    if row is None:
        raise NotFound("order", order_id)
    return dict(row._mapping)


async def create_order(req: NewOrder, price: PriceSnapshot | None) -> tuple[dict, bool]:
    """Accept an order (state acknowledged) with its price snapshot; return (row, created).

    A retried request with the same `external_id` returns the first order instead of a second one;
    the unique constraint decides when two retries race.
    """
    async with unit_of_work() as uow:
        if req.external_id and (existing := await find_by_external_id(uow.conn, req.external_id)):
            uow.record("order.create.replayed", "order", existing["id"], {"externalId": req.external_id})
            return existing, False
        facts = await load_order_facts(uow.conn, req, sellable=price is not None)
        raise_if(check_order_create(facts))
        assert price is not None
        order_id = await uow.next_id(IdKind.ORDER)
        values = {
            "id": order_id, "external_id": req.external_id, "customer_id": req.customer_id,
            "offering_id": req.offering_id, "offering_price_id": price.price_id, "price_minor": price.price_minor,
            "currency": price.currency, "period_days": price.period_days or 30,
            "requested_msisdn": req.requested_msisdn, "channel": context.current().channel,
            "order_date": clock.now(), "updated_at": clock.now(),
        }
        return await insert_order(uow, values, {
            "customerId": req.customer_id, "offeringId": req.offering_id, "priceMinor": price.price_minor,
            "currency": price.currency, "externalId": req.external_id})


async def insert_order(uow: UnitOfWork, values: dict, event: dict) -> tuple[dict, bool]:
    """Insert an acknowledged order (audited with `event`); a race lost on its external id returns the winner."""
    stmt = insert(product_order).values(**values).on_conflict_do_nothing(index_elements=["external_id"])
    inserted = (await uow.conn.execute(stmt.returning(product_order))).first()
    if inserted is None:  # lost a race with the same external id: return the winner
        existing = await find_by_external_id(uow.conn, values["external_id"] or "")
        uow.record("order.create.replayed", "order", existing["id"], {"externalId": values["external_id"]})
        return existing, False
    uow.record("order.acknowledged", "order", values["id"], event)
    return dict(inserted._mapping), True  # the row as written (RETURNING): no read back


async def _lock(conn: AsyncConnection, order_id: str) -> dict:
    row = (await conn.execute(select(product_order).where(product_order.c.id == order_id).with_for_update())).first()
    if row is None:
        raise NotFound("order", order_id)
    return dict(row._mapping)


@activity.defn(name="order_record_step")
async def record_order_step(step: OrderStepUpdate) -> None:
    """Record a milestone (and the resources it produced) on the order row; idempotent."""
    async with unit_of_work() as uow:
        await apply_steps(uow, [step])


async def apply_steps(uow: UnitOfWork, steps: list[OrderStepUpdate]) -> Row:
    """Record milestones of one order, in order, with one UPDATE (its row lock included); idempotent.

    Returns the order row as written, so a stage that needs the order does not read it again.
    """
    order_id = steps[0].order_id
    po = product_order
    now = clock.now()
    # The first milestone starts an acknowledged order; later ones leave its state alone. Computed in
    # the UPDATE, so no SELECT … FOR UPDATE round trip is needed to read the state first.
    started = ORDER_MACHINE.next(OrderState.ACKNOWLEDGED, "start")
    values: dict = {"updated_at": now,
                    "state": case((po.c.state == OrderState.ACKNOWLEDGED.value, started.value), else_=po.c.state)}
    for step in steps:
        values["step"] = step.step
        for key in ("msisdn", "iccid", "payment_id", "service_order_id"):
            if getattr(step, key) is not None:
                values[key] = getattr(step, key)
        if step.provisioning_started:
            values["provisioning_started_at"] = func.coalesce(po.c.provisioning_started_at, now)
        uow.record(f"order.step.{step.step.lower()}", "order", order_id,
                   step.model_dump(exclude={"order_id"}, exclude_none=True))
    updated = (await uow.conn.execute(update(po).where(po.c.id == order_id).values(**values)
                                      .returning(po))).first()
    if updated is None:
        raise NotFound("order", order_id)
    return updated


@activity.defn(name="order_end")
async def end_order(end: EndOrder) -> None:
    """Close the order as completed, failed or cancelled; a second call with the same end is a no-op."""
    async with unit_of_work() as uow:
        await end_in(uow, end)


async def end_in(uow: UnitOfWork, end: EndOrder) -> None:
    """Inside `uow`, close the order as completed, failed or cancelled; the same end again is a no-op."""
    target = OrderState(end.state)
    event = {OrderState.COMPLETED: "complete", OrderState.FAILED: "fail", OrderState.CANCELLED: "cancel"}[target]
    step = {OrderState.COMPLETED: OrderStep.COMPLETED, OrderState.FAILED: OrderStep.FAILED,
            OrderState.CANCELLED: OrderStep.CANCELLED}[target]
    po = product_order
    reason = end.reason
    if end.failed_undos:
        reason = f"{reason or target.value}; undo failed, left for an operator: {'; '.join(end.failed_undos)}"
    values: dict = {"state": target.value, "step": step.value, "failure_reason": reason,
                    "completed_at": clock.now(), "updated_at": clock.now()}
    if end.subscription_id:
        values["subscription_id"] = end.subscription_id
    # One conditional write from every state the machine lets `event` take to `target`; the locked
    # read below runs only when that finds nothing (the same end again, an illegal move, no order).
    sources = [s.value for s, to in ORDER_MACHINE.moves(event).items() if to == target]
    if end.only_from is not None:
        sources = [s for s in sources if s == end.only_from]
    ended = (await uow.conn.execute(update(po).where(po.c.id == end.order_id, po.c.state.in_(sources))
                                    .values(**values).returning(po.c.id))).first()
    if ended is None and end.only_from is not None:
        uow.record("order.end.skipped", "order", end.order_id, {"state": target.value, "onlyFrom": end.only_from})
        return  # it moved on (a late start ran it): not ours to end
    if ended is None:
        order = await _lock(uow.conn, end.order_id)
        if order["state"] == target:
            uow.record("order.end.replayed", "order", end.order_id, {"state": target.value})
            return
        ORDER_MACHINE.next(OrderState(order["state"]), event)  # an illegal move raises InvalidTransition
        await uow.conn.execute(update(po).where(po.c.id == end.order_id).values(**values))
    uow.record(f"order.{target.value}", "order", end.order_id,
               {"reason": end.reason, "subscriptionId": end.subscription_id, "failedUndos": end.failed_undos})
