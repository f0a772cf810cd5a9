"""TMF622 items that act on an existing line: `modify` (a plan change) and `delete` (a termination).

They take the path `bss subscription plan-change|terminate` takes (apis/subscription_ops.py): the same
policies first (a refusal is a 422 and writes nothing), then the same update of the line's workflow,
whose validator and activities have the last word. The order records it: acknowledged, inProgress
while the update runs, then completed, or failed with the rule code of a late refusal. A retried POST
with the same externalId resumes an order left unfinished (Temporal unreachable) under the same
update id, so the line's workflow answers it once. Such an order can be cancelled only while it is
still acknowledged (it has no order workflow to compensate).
"""

from __future__ import annotations

from temporalio.client import Client

from activities.catalog import resolve_price
from activities.ordering import end_order, load_order
from activities.ordering_changes import NewChange, create_change_order, order_by_external_id
from activities.subscription import load_view
from apis.line_workflow import load_line_row, offering_facts
from apis.order_runs import run_change
from apis.tmf622_wire import ParsedOrder
from core import clock
from domain.catalog import PriceSnapshot, PriceType
from domain.ordering import FINAL_STATES, OrderAction, OrderState
from domain.ordering_flow import EndOrder
from policies import subscription as rules
from policies.base import raise_if, violation
from policies.ordering import check_order_cancel

PLAN_NOT_SELLABLE = "subscription.plan_change.target_not_sellable"


async def place_change(order: ParsedOrder, external_id: str | None, temporal: Client) -> tuple[dict, bool]:
    """Accept and run a modify/delete order; return (its row at the end, created)."""
    assert order.product_id is not None
    if external_id and (existing := await order_by_external_id(external_id)) is not None:
        if existing["action"] != OrderAction.ADD and OrderState(existing["state"]) not in FINAL_STATES:
            return await run_change(temporal, existing), False
        return existing, False
    line = await load_line_row(order.product_id)
    customer_id = order.customer_id or line["customer_id"]
    if customer_id != line["customer_id"]:
        raise_if([violation("order.item.product_not_of_customer", f"product {line['id']} is not a line of "
                            f"customer {customer_id}", product_id=line["id"], customer_id=customer_id)])
    price = await (_plan_change_price(line, order.offering_id or "") if order.action == OrderAction.MODIFY
                   else _termination_price(line))
    row, created = await create_change_order(NewChange(
        action=order.action, customer_id=customer_id, subscription_id=line["id"], offering_id=price.offering_id,
        external_id=external_id), price)
    if OrderState(row["state"]) in FINAL_STATES:
        return row, created
    return await run_change(temporal, row), created


async def _plan_change_price(line: dict, offering_id: str) -> PriceSnapshot:
    """The subscription operation's plan-change rules, then the new plan's price in force now."""
    if line["pending_offering_id"] != offering_id:  # the same change again is a retry, not a conflict
        kind, sellable = await offering_facts(offering_id, PLAN_NOT_SELLABLE)
        raise_if(rules.check_plan_change(line["id"], line["state"], line["offering_id"], offering_id,
                                         line["pending_offering_id"], kind, sellable))
    return await resolve_price(offering_id, clock.now(), code=PLAN_NOT_SELLABLE)


async def _termination_price(line: dict) -> PriceSnapshot:
    """The subscription operation's termination rule; the order keeps the price the line stops paying."""
    raise_if(rules.check_terminate(line["id"], line["state"]))
    view = await load_view(line["id"])
    price_id = view.price_id or (await resolve_price(line["offering_id"], clock.now())).price_id
    return PriceSnapshot(offering_id=line["offering_id"], price_id=price_id, price_minor=line["price_minor"],
                         currency=line["currency"], price_type=PriceType.RECURRING, period_days=line["period_days"])


async def cancel_change(row: dict, reason: str) -> dict:
    """Cancel a modify/delete order that has not run yet; once inProgress, the line's workflow may have it."""
    raise_if(check_order_cancel(row["id"], row["state"], provisioning_started=False))
    if row["state"] != OrderState.ACKNOWLEDGED:
        raise_if([violation("order.cancel.not_after_provisioning_started", f"order {row['id']} is being applied to "
                            f"line {row['subscription_id']}: act on the line instead", order_id=row["id"])])
    # Only from acknowledged: a retried POST that starts it meanwhile wins, and the answer shows its state.
    await end_order(EndOrder(order_id=row["id"], state=OrderState.CANCELLED, reason=reason,
                             only_from=OrderState.ACKNOWLEDGED))
    return await load_order(row["id"])
