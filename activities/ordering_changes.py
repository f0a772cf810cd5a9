"""Product orders that act on an existing line (TMF622 `modify`, `delete`): accept one, naming its line."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import update

from activities.ordering import find_by_external_id, insert_order
from activities.uow import unit_of_work
from core import clock, context
from core.db import get_engine
from domain.catalog import PriceSnapshot
from domain.ids import IdKind
from domain.ordering import ORDER_MACHINE, OrderState, product_order


class NewChange(BaseModel):
    """A modify (plan change) or delete (termination) of one line, checked by the line's policies."""

    action: str
    customer_id: str
    subscription_id: str
    offering_id: str  # modify: the plan moved to; delete: the line's plan
    external_id: str | None = None


async def order_by_external_id(external_id: str) -> dict | None:
    """The order a client already made with this request id, if any (read on its own connection)."""
    async with get_engine().connect() as conn:
        return await find_by_external_id(conn, external_id)


async def create_change_order(req: NewChange, price: PriceSnapshot) -> tuple[dict, bool]:
    """Accept a modify/delete order (acknowledged) with its price snapshot; a retried external id gets the first."""
    async with unit_of_work() as uow:
        if req.external_id and (existing := await find_by_external_id(uow.conn, req.external_id)):
            uow.record("order.create.replayed", "order", existing["id"], {"externalId": req.external_id})
            return existing, False
        order_id = await uow.next_id(IdKind.ORDER)
        values = {
            "id": order_id, "external_id": req.external_id, "customer_id": req.customer_id, "action": req.action,
            "subscription_id": req.subscription_id, "offering_id": req.offering_id,
            "offering_price_id": price.price_id, "price_minor": price.price_minor, "currency": price.currency,
            "period_days": price.period_days or 30, "channel": context.current().channel,
            "order_date": clock.now(), "updated_at": clock.now(),
        }
        return await insert_order(uow, values, {
            "customerId": req.customer_id, "action": req.action, "subscriptionId": req.subscription_id,
            "offeringId": req.offering_id, "priceMinor": price.price_minor, "currency": price.currency,
            "externalId": req.external_id})


async def start_change(order_id: str, step: str) -> bool:
    """Move a modify/delete order to inProgress at `step`; False when it has ended meanwhile (e.g. cancelled).

    Conditional on the order being unfinished, so a cancellation that won the race is never followed
    by its change being applied to the line.
    """
    po = product_order
    async with unit_of_work() as uow:
        moved = (await uow.conn.execute(
            update(po).where(po.c.id == order_id, po.c.state.in_([OrderState.ACKNOWLEDGED, OrderState.IN_PROGRESS]))
            .values(state=ORDER_MACHINE.next(OrderState.ACKNOWLEDGED, "start"), step=step, updated_at=clock.now()).returning(po.c.id))).first()
        if moved is not None:
            uow.record(f"order.step.{step.lower()}", "order", order_id, {"step": step})
        else:  # as `end_in` does for an end that lost its race: the attempt is on record, the order untouched
            uow.record("order.change.skipped", "order", order_id, {"step": step})
    return moved is not None
