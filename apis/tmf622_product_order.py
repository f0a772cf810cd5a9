"""TMF622 Product Ordering: accept an order, start its workflow (or change a line), show live progress, cancel."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from activities.ordering import NewOrder, create_order, end_order, load_order
from apis.deps import TemporalDep
from apis.order_runs import ensure_order_workflow
from apis.routing import BssRouter
from apis.tmf import list_response, parse_list_query, tmf_response
from apis.tmf622_changes import cancel_change, place_change
from apis.tmf622_wire import (
    BASE,
    CancelProductOrderCreate,
    ProductOrderCreate,
    cancel_to_tmf,
    order_to_tmf,
    parse_order,
)
from core.db import get_engine
from core.errors import ExternalServiceError, NotFound, PolicyViolation, Violation
from core.scopes import Scope
from domain.catalog import PriceSnapshot
from domain.ordering import OrderAction, product_order
from domain.ordering_flow import CancelOrder, EndOrder
from policies.base import raise_if, violation
from policies.ordering import check_order_cancel
from workflows.order import OrderWorkflow, order_workflow_id

router = BssRouter(prefix=BASE, tags=["TMF622 productOrder"])

FILTERS = {"state": product_order.c.state, "externalId": product_order.c.external_id,
           "relatedParty.id": product_order.c.customer_id, "productOffering.id": product_order.c.offering_id}
WIRE_TO_STATE = {"inProgress": "in_progress"}


async def _resolve_price(offering_id: str) -> PriceSnapshot | None:
    from activities.catalog import resolve_price
    from core import clock

    try:
        return await resolve_price(offering_id, clock.now())
    except PolicyViolation:
        return None  # reported with every other refusal by the order policy


@router.post("/productOrder", scope=Scope.ORDER_WRITE, status_code=201)
async def create_product_order(body: ProductOrderCreate, request: Request, temporal: TemporalDep) -> JSONResponse:
    """Accept an order: `add` a plan (order-to-activation), `modify` or `delete` a line (its workflow's update)."""
    order = parse_order(body)
    if order.action != OrderAction.ADD:
        row, created = await place_change(order, body.externalId, temporal)
        return tmf_response(order_to_tmf(row, request), status=201 if created else 200)
    # A new line has no owner to derive (a bound call must name its customer anyway: apis/routing.py).
    customer_id = order.customer_id
    if customer_id is None:
        raise_if([violation("order.create.requires_customer", "relatedParty names no customer (role customer "
                            "or @referredType Customer)", field="relatedParty")])
    offering_id = order.offering_id or ""
    price = await _resolve_price(offering_id)
    row, created = await create_order(NewOrder(customer_id=customer_id, offering_id=offering_id,
                                               external_id=body.externalId, requested_msisdn=order.msisdn), price)
    # A replayed order still acknowledged was never started (or its start is unknown): start it now.
    if row["state"] == "acknowledged" and (error := await ensure_order_workflow(temporal, row)) is not None:
        # Temporal says no workflow exists after every attempt: nothing was reserved or charged, so
        # end the order rather than strand it.
        await end_order(EndOrder(order_id=row["id"], state="failed", only_from="acknowledged",
                                 reason="orchestration.unavailable: the order could not be started"))
        raise ExternalServiceError("temporal.unavailable", f"order {row['id']} could not start: {error}",
                                   {"orderId": row["id"], "externalId": row["external_id"]}) from error
    return tmf_response(order_to_tmf(row, request), status=201 if created else 200)


@router.get("/productOrder", scope=Scope.ORDER_READ, owner_filter="relatedParty.id")
async def list_product_orders(request: Request) -> JSONResponse:
    """List orders (filters: state, externalId, relatedParty.id, productOffering.id)."""
    query = parse_list_query(request, FILTERS)
    conditions = [FILTERS[k] == WIRE_TO_STATE.get(v, v) for k, v in query.filters.items()]
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(product_order).where(*conditions))).scalar_one()
        rows = (await conn.execute(select(product_order).where(*conditions).order_by(product_order.c.order_date.desc(),
                product_order.c.id.desc()).offset(query.offset).limit(query.limit))).all()
    return list_response([order_to_tmf(dict(r._mapping), request) for r in rows], total, query)


@router.get("/productOrder/{order_id}", scope=Scope.ORDER_READ)
async def get_product_order(order_id: str, request: Request) -> JSONResponse:
    """One order with its live state, step, line and failure reason."""
    return tmf_response(order_to_tmf(await load_order(order_id), request))


@router.post("/cancelProductOrder", scope=Scope.ORDER_WRITE, status_code=201)
async def cancel_product_order(body: CancelProductOrderCreate, request: Request,
                               temporal: TemporalDep) -> JSONResponse:
    """Cancel an order that has not started provisioning; its workflow compensates."""
    row = await load_order(body.productOrder.id)
    reason = body.cancellationReason or "cancelled by request"
    if row["action"] != OrderAction.ADD:  # no order workflow: the line's workflow runs the change
        return tmf_response(cancel_to_tmf(await cancel_change(row, reason), request, reason), status=201)
    raise_if(check_order_cancel(row["id"], row["state"], row["provisioning_started_at"] is not None))
    handle = temporal.get_workflow_handle(order_workflow_id(row["id"]))
    try:
        await handle.execute_update(OrderWorkflow.cancel, CancelOrder(reason=reason))
    except WorkflowUpdateFailedError as exc:
        raise PolicyViolation(_violation_from_update(exc, row["id"])) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise NotFound("order", row["id"]) from exc
        raise
    return tmf_response(cancel_to_tmf(await load_order(row["id"]), request, reason), status=201)


@router.get("/cancelProductOrder/{cancel_id}", scope=Scope.ORDER_READ)
async def get_cancel_product_order(cancel_id: str, request: Request) -> JSONResponse:
    """The cancellation request of an order (`CAN-<order id>`)."""
    if not cancel_id.startswith("CAN-"):
        raise NotFound("cancel_product_order", cancel_id)
    row = await load_order(cancel_id.removeprefix("CAN-"))
    if row["state"] != "cancelled" and row["failure_reason"] is None:
        raise NotFound("cancel_product_order", cancel_id)
    return tmf_response(cancel_to_tmf(row, request))


def _violation_from_update(exc: WorkflowUpdateFailedError, order_id: str) -> Violation:
    """The workflow validator's message starts with the rule code it applied."""
    message = str(exc.cause.message if exc.cause and hasattr(exc.cause, "message") else exc)
    code, _, text = message.partition(": ")
    if "." not in code or " " in code:
        code, text = "order.cancel.not_after_provisioning_started", message
    return Violation(code, text, {"order_id": order_id})
