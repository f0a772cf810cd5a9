"""Run an accepted product order on Temporal, for the API that accepted it and the worker that resumes it.

An `add` order is its own workflow, `order-{id}`, started once whoever starts it (the POST, a retried
POST, the order reconciler in workers/order_reconciler.py); a `modify`/`delete` order is an update of
its line's workflow under the update id `order-{id}`, so whoever sends it again is answered by the
first. No web framework here: the worker imports it.
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from activities.ordering import end_order, load_order
from activities.ordering_changes import start_change
from activities.stack_clock import scenario_clock
from apis.line_workflow import acting, load_line_row, send
from apis.temporal_gateway import describe_or_none
from core.errors import ExternalServiceError, NotFound, PolicyViolation
from domain.ordering import OrderAction, OrderState, OrderStep
from domain.ordering_flow import EndOrder, PlaceOrder
from domain.subscription import SubscriptionState
from domain.subscription_flow import ChangePlan, TerminateLine
from workflows import queues
from workflows.order import OrderWorkflow, order_workflow_id
from workflows.search_attributes import CUSTOMER_ID, ORDER_ID, ORDER_STATUS
from workflows.subscription import SubscriptionWorkflow

# Pauses between start attempts (4 attempts, 1.3 s of waiting at most): the caller holds the POST open.
START_RETRY_PAUSES = (0.1, 0.3, 0.9)


async def start_order_workflow(temporal: Client, row: dict) -> None:
    """Start `order-{id}` once; a second start for the same order is a no-op, never a second run."""
    order = PlaceOrder(order_id=row["id"], customer_id=row["customer_id"], offering_id=row["offering_id"],
                       price_minor=row["price_minor"], currency=row["currency"],
                       requested_msisdn=row["requested_msisdn"], scenario_clock=scenario_clock())
    try:
        await temporal.start_workflow(
            OrderWorkflow.run, order, id=order_workflow_id(row["id"]), task_queue=queues.ORDERS,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(CUSTOMER_ID, row["customer_id"]), SearchAttributePair(ORDER_ID, row["id"]),
                SearchAttributePair(ORDER_STATUS, OrderStep.ACKNOWLEDGED.value)]))
    except WorkflowAlreadyStartedError:
        return  # it already ran to its end: the order row tells the outcome


async def ensure_order_workflow(temporal: Client, row: dict) -> RPCError | None:
    """Start the order's workflow, retrying briefly; None once it exists, else the last start error.

    A start whose answer was lost (deadline exceeded, connection reset) may have happened all the
    same, so every failed start is checked by workflow id before it counts: the error is returned only
    when Temporal says no such workflow exists. When that check fails too, nobody can tell whether the
    order runs, so it must not be failed: 503, and the order stays acknowledged for a retried POST or the
    order reconciler (workers/order_reconciler.py).
    """
    handle = temporal.get_workflow_handle(order_workflow_id(row["id"]))
    for pause in (*START_RETRY_PAUSES, None):
        try:
            await start_order_workflow(temporal, row)  # idempotent: a second start joins the first run
            return None
        except RPCError as exc:
            error = exc
        try:
            if await describe_or_none(handle) is not None:
                return None  # any status: it started, and from now on the workflow owns the order row
        except RPCError as exc:
            raise ExternalServiceError(
                "temporal.unavailable", f"order {row['id']} is accepted but not started yet (Temporal cannot be "
                f"reached: {exc}); a retried POST with the same externalId resumes it, or the stack does once "
                f"Temporal answers",
                {"orderId": row["id"], "externalId": row["external_id"]}) from exc
        if pause is not None:
            await asyncio.sleep(pause)
    return error


async def run_change(temporal: Client, row: dict) -> dict:
    """Start the order, send its update to the line's workflow, and end the order with the outcome.

    Whoever runs it again (a retried POST, the order reconciler) sends the same update id, and ends
    the order only from inProgress: an end written meanwhile by another runner stands.
    """
    order_id, line_id = row["id"], row["subscription_id"]
    modify = row["action"] == OrderAction.MODIFY
    if not await start_change(order_id, OrderStep.CHANGING_PLAN if modify else OrderStep.TERMINATING):
        return await load_order(order_id)  # cancelled (or ended by another runner) before it began
    update, arg = ((SubscriptionWorkflow.change_plan, ChangePlan(offering_id=row["offering_id"], **acting())) if modify
                   else (SubscriptionWorkflow.terminate, TerminateLine(reason=f"product order {order_id}", **acting())))
    state, reason = OrderState.COMPLETED, None
    try:  # a resumed order's update (same id) is answered by the first one
        await send(temporal, line_id, update, arg, update_id=f"order-{order_id}")
    except (PolicyViolation, NotFound) as exc:  # refused by the workflow, or the line has none
        # ...unless it is a resumed termination whose first update ended the line (and its workflow): done.
        if modify or (await load_line_row(line_id))["state"] != SubscriptionState.TERMINATED:
            state, reason = OrderState.FAILED, f"{exc.code}: {exc.message}"
    await end_order(EndOrder(order_id=order_id, state=state, reason=reason, only_from=OrderState.IN_PROGRESS,
                             subscription_id=line_id if state == OrderState.COMPLETED else None))
    return await load_order(order_id)
