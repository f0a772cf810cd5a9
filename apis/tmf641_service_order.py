"""TMF641 Service Ordering: `/tmf-api/serviceOrdering/v4/serviceOrder` (read-only: the order workflow writes).

States on the wire are TMF's `ServiceOrderStateType`, one-to-one with SPEC §2 (`in_progress` is
`inProgress`). The product order it fulfils is `externalId`, an `externalReference` and an
`orderRelationship` (`cross-ref`, as TMF641 describes it). Each service of the order is one
`serviceOrderItem` (action `add`, item id = service id) whose `service` is the TMF638 service;
RFS items relate to the CFS item (`reliesOn`). A failed or cancelled order carries its reason in
`cancellationReason` (cancelled) or a `note` (failed).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from apis import tmf638_service_inventory as inventory
from apis.routing import BssRouter
from apis.tmf import href, iso, list_response, parse_list_query, ref, tmf_response
from core.db import get_engine
from core.errors import MalformedRequest, NotFound
from core.scopes import Scope
from domain.service_order import ServiceOrderState, ServiceState, service, service_order

BASE = "/tmf-api/serviceOrdering/v4"
ORDER_PATH = f"{BASE}/serviceOrder"
TO_WIRE = {ServiceOrderState.ACKNOWLEDGED: "acknowledged", ServiceOrderState.IN_PROGRESS: "inProgress",
           ServiceOrderState.COMPLETED: "completed", ServiceOrderState.FAILED: "failed",
           ServiceOrderState.CANCELLED: "cancelled"}
FROM_WIRE = {wire: state for state, wire in TO_WIRE.items()}
SO = service_order.c
FILTERS = {"id": SO.id, "externalId": SO.product_order_id, "relatedParty.id": SO.customer_id}

router = BssRouter(prefix=BASE, tags=["serviceOrdering"])


def _conditions(filters: dict[str, str]) -> list[ColumnElement[bool]]:
    found = []
    for key, value in filters.items():
        if key == "state":
            if value not in FROM_WIRE:
                raise MalformedRequest("request.malformed", f"state: unknown service order state '{value}'",
                                       {"field": "state", "allowed": sorted(FROM_WIRE)})
            found.append(SO.state == FROM_WIRE[value].value)
        else:
            found.append(FILTERS[key] == value)
    return found


def _item_state(order_state: str, service_state: str) -> str:
    if order_state in (ServiceOrderState.FAILED, ServiceOrderState.CANCELLED):
        return TO_WIRE[ServiceOrderState(order_state)]
    if service_state == ServiceState.ACTIVATED:
        return "completed"
    return TO_WIRE[ServiceOrderState(order_state)]


def _item(row: Any, svc: Any, request: Request) -> dict[str, Any]:
    value = inventory.service_ref(request, inventory.SERVICE_PATH, svc) | {
        "category": svc.kind, "state": inventory.TO_WIRE[ServiceState(svc.state)],
        "serviceSpecification": {"id": svc.spec_name, "name": svc.spec_name,
                                 "@referredType": "ServiceSpecification"}}
    item: dict[str, Any] = {"id": svc.id, "action": "add", "state": _item_state(row.state, svc.state),
                            "@type": "ServiceOrderItem", "service": value}
    if svc.parent_service_id:
        item["serviceOrderItemRelationship"] = [{"relationshipType": "reliesOn", "orderItem": {
            "itemId": svc.parent_service_id, "serviceOrderId": row.id,
            "serviceOrderHref": href(request, f"{ORDER_PATH}/{row.id}"),
            "@referredType": "ServiceOrderItem"}}]
    return item


def to_tmf(row: Any, request: Request, services: list[Any]) -> dict[str, Any]:
    """Render a service order row and its services as a TMF641 `ServiceOrder`."""
    body: dict[str, Any] = {
        "id": row.id, "href": href(request, f"{ORDER_PATH}/{row.id}"), "@type": "ServiceOrder",
        "externalId": row.product_order_id, "category": "mobile",
        "description": f"Activation of the mobile line of product order {row.product_order_id}",
        "state": TO_WIRE[ServiceOrderState(row.state)], "orderDate": iso(row.created_at),
        "startDate": iso(row.created_at),
        "relatedParty": [ref(request, inventory.CUSTOMER_PATH, row.customer_id, "Customer")
                         | {"role": "customer"}],
        "externalReference": [{"name": row.product_order_id, "externalReferenceType": "ProductOrder"}],
        "orderRelationship": [ref(request, inventory.PRODUCT_ORDER_PATH, row.product_order_id, "ProductOrder")
                              | {"relationshipType": "cross-ref"}],
        "serviceOrderItem": [_item(row, svc, request) for svc in services],
        "note": [],
    }
    if row.completed_at:
        body["completionDate"] = iso(row.completed_at)
    if row.state == ServiceOrderState.CANCELLED:
        body["cancellationDate"] = iso(row.cancelled_at)
        if row.failure_reason:
            body["cancellationReason"] = row.failure_reason
    elif row.state == ServiceOrderState.FAILED and row.failure_reason:
        body["note"] = [{"id": "failure", "author": "system", "date": iso(row.updated_at),
                         "text": row.failure_reason, "@type": "Note"}]
    return body


async def _services(conn: AsyncConnection, order_ids: list[str]) -> dict[str, list[Any]]:
    by_order: dict[str, list[Any]] = {}
    if order_ids:
        rows = await conn.execute(select(service).where(service.c.service_order_id.in_(order_ids))
                                  .order_by(service.c.id))
        for row in rows:
            by_order.setdefault(row.service_order_id, []).append(row)
    return by_order


async def read_service_order(request: Request, service_order_id: str) -> dict[str, Any]:
    """One service order rendered for the wire (404 when unknown)."""
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(service_order).where(SO.id == service_order_id))).first()
        if row is None:
            raise NotFound("service_order", service_order_id)
        services = await _services(conn, [row.id])
    return to_tmf(row, request, services.get(row.id, []))


@router.get("/serviceOrder", scope=Scope.SERVICE_READ)
async def list_service_orders(request: Request) -> JSONResponse:
    """List service orders, filterable by state, externalId (the product order) and relatedParty.id."""
    query = parse_list_query(request, [*FILTERS, "state"])
    where = _conditions(query.filters)
    async with get_engine().connect() as conn:
        count = select(func.count()).select_from(service_order).where(*where)
        total = (await conn.execute(count)).scalar_one()
        rows = (await conn.execute(select(service_order).where(*where).order_by(SO.id)
                                   .offset(query.offset).limit(query.limit))).all()
        services = await _services(conn, [r.id for r in rows])
    return list_response([to_tmf(r, request, services.get(r.id, [])) for r in rows], total, query)


@router.get("/serviceOrder/{service_order_id}", scope=Scope.SERVICE_READ)
async def get_service_order(service_order_id: str, request: Request) -> JSONResponse:
    """Show one service order with an item per CFS/RFS."""
    return tmf_response(await read_service_order(request, service_order_id))
