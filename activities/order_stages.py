"""The order saga's own writes in three stages, each one local activity and one transaction.

Steps that always run together commit together: reserve (number + profile + order RESERVED),
start provisioning (payment recorded + service order with its CFS/RFS and tasks + order
PROVISIONING), activate (line with balances + resources handed over + service order completed +
first bill + order ACTIVATING, then closed `completed`). Each stage is all-or-nothing, so a retry either finds nothing
written and does it all, or finds the stage's own mark (the held rows, the service order, the line)
and returns what the first call wrote without writing again.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from temporalio import activity

from activities.billing import check_request, issue_bill_in
from activities.inventory import ESIM, MSISDN, assign_in, held_numbers, pick_esim, pick_msisdn, take_in
from activities.inventory_pool import after_takes
from activities.line_activation import activate_line_in
from activities.ordering import apply_steps, end_in
from activities.service_order import complete_in, create_in, load_service_order, plan_of
from activities.subscription import load_view
from activities.uow import unit_of_work
from core.db import get_engine
from core.errors import InvalidTransition
from domain.billing import BillKind, BillLine, IssueBill, RateType
from domain.inventory import Pool
from domain.ordering import OrderState, OrderStep
from domain.ordering_flow import (
    ActivateLine,
    ActivateOrder,
    EndOrder,
    OrderResources,
    OrderStepUpdate,
    ReserveForOrder,
    StartProvisioning,
)
from domain.provisioning_flow import CompleteServiceOrder, CreateServiceOrder, ServiceOrderPlan
from domain.subscription import subscription
from domain.subscription_flow import LineView
from policies.base import raise_if

# An order in one of these states is over: no stage may take resources for it.
ENDED = frozenset({OrderState.COMPLETED.value, OrderState.FAILED.value, OrderState.CANCELLED.value})


class _Done(Exception):
    """Roll back: the stage committed before (a retry); carries what it produced."""

    def __init__(self, result: object) -> None:
        super().__init__("stage already done")
        self.result = result


@activity.defn(name="order_reserve")
async def reserve_for_order(req: ReserveForOrder) -> OrderResources:
    """Reserve the number and the eSIM profile and record the order RESERVED, in one transaction."""
    oid = req.order_id
    try:
        async with unit_of_work() as uow:
            number, iccid = await held_numbers(uow.conn, oid)
            if number is not None and iccid is not None:
                raise _Done(OrderResources(msisdn=number, iccid=iccid))
            taken = []
            if number is None:
                number = (await take_in(uow, MSISDN, oid, pick_msisdn(req.requested_msisdn), Pool.MSISDN))["number"]
                taken.append(Pool.MSISDN)
            if iccid is None:
                iccid = (await take_in(uow, ESIM, oid, pick_esim, Pool.ESIM))["iccid"]
                taken.append(Pool.ESIM)
            await after_takes(uow, taken)
            held = OrderResources(msisdn=number, iccid=iccid)
            order = await apply_steps(uow, [OrderStepUpdate(order_id=oid, step=OrderStep.RESERVED.value,
                                                            msisdn=held.msisdn, iccid=held.iccid)])
            if order.state in ENDED:
                # Ended before its workflow ran (the API failed an order whose start it thought lost):
                # take nothing, charge nothing; the rollback gives the units back.
                raise InvalidTransition("order", order.state, "reserve")
        return held
    except _Done as done:
        return done.result  # type: ignore[return-value]
    except IntegrityError:
        # A retry racing its own first attempt: the partial unique indexes let one of them hold.
        async with get_engine().connect() as conn:
            number, iccid = await held_numbers(conn, oid)
        if number is None or iccid is None:
            raise
        return OrderResources(msisdn=number, iccid=iccid)


@activity.defn(name="order_start_provisioning")
async def start_provisioning(req: StartProvisioning) -> ServiceOrderPlan:
    """Record the payment, create the service order and its tasks, and mark provisioning started, at once."""
    oid = req.order_id
    try:
        async with unit_of_work() as uow:
            if (so := await load_service_order(uow.conn, oid)) is not None:
                raise _Done(await plan_of(uow.conn, so))
            plan = await create_in(uow, CreateServiceOrder(
                order_id=oid, customer_id=req.customer_id, offering_id=req.offering_id, msisdn=req.msisdn,
                iccid=req.iccid), checked=True)
            await apply_steps(uow, [
                OrderStepUpdate(order_id=oid, step=OrderStep.PAID.value, payment_id=req.payment_id),
                OrderStepUpdate(order_id=oid, step=OrderStep.SERVICE_ORDERED.value,
                                service_order_id=plan.service_order_id),
                OrderStepUpdate(order_id=oid, step=OrderStep.PROVISIONING.value, provisioning_started=True)])
        return plan
    except _Done as done:
        return done.result  # type: ignore[return-value]


@activity.defn(name="order_activate")
async def activate_order(req: ActivateOrder) -> LineView:
    """Create the line, hand it number and profile, complete the service order, bill (and order), at once."""
    oid = req.order_id
    try:
        async with unit_of_work() as uow:
            existing = (await uow.conn.execute(select(subscription.c.id).where(
                subscription.c.order_id == oid))).scalar_one_or_none()
            if existing is not None:
                raise _Done(existing)
            order = await apply_steps(uow, [OrderStepUpdate(order_id=oid, step=OrderStep.ACTIVATING.value)])
            line = await activate_line_in(uow, ActivateLine(order_id=oid, msisdn=req.msisdn, iccid=req.iccid), order)
            await assign_in(uow, oid, line.subscription_id)
            await complete_in(uow, CompleteServiceOrder(order_id=oid, subscription_id=line.subscription_id))
            bill = IssueBill(
                idempotency_key=f"{oid}:bill", customer_id=req.customer_id, subscription_id=line.subscription_id,
                kind=BillKind.ACTIVATION, payment_id=req.payment_id, period_start=line.period_start,
                period_end=line.period_end, lines=[BillLine(
                    offering_id=req.offering_id, description=f"{req.offering_id} first period",
                    amount_minor=req.price_minor, currency=req.currency, rate_type=RateType.RECURRING)])
            raise_if(check_request(bill))
            await issue_bill_in(uow, bill, line_owner=line.customer_id)
            # The client sees `completed` as soon as the line exists, not one workflow task and the
            # child start later; the subscription row is this stage's mark.
            await end_in(uow, EndOrder(order_id=oid, state=OrderState.COMPLETED.value,
                                       subscription_id=line.subscription_id))
        return line
    except _Done as done:
        return await load_view(done.result)  # type: ignore[arg-type]
