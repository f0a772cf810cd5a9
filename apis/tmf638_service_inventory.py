"""TMF638 Service Inventory: `/tmf-api/serviceInventory/v4/service` (read-only: SOM writes services).

States on the wire are TMF's `ServiceStateType`, one-to-one with SPEC §2 so filters stay exact:
`activated` is `active`, and `failed` (a reservation that never went live) is `inactive`.
A CFS lists its RFS in `supportingService` and relates to each in `serviceRelationship`
(`reliesOn`); an RFS relates to its CFS (`supports`). `serviceSpecification` names the spec of the
line's decomposition (MobileBroadband, DataService, VoiceService; no service catalogue is served, so
its href is a URN). `place` is the line's home network, the PLMN of our IMSIs. The product order and
the subscription (TMF637 product) are `relatedEntity`s, the service order item is in
`serviceOrderItem`, the MSISDN and eSIM are `supportingResource`s. Any of them filters through the
TMF630 refinement (`serviceRelationship.service.id=…`, `place.id=…`); the store answers
`serviceSpecification.id|name` itself. The rendering is shared with TMF640, which adds the activation tasks.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from apis.routing import BssRouter
from apis.tmf import ListQuery, href, iso, list_response, parse_list_query, ref, tmf_response
from core.db import get_engine
from core.errors import MalformedRequest, NotFound
from core.scopes import Scope
from domain.reference_data import IMSI_PREFIX
from domain.service_order import ServiceKind, ServiceSpec, ServiceState, service, service_order

BASE = "/tmf-api/serviceInventory/v4"
SERVICE_PATH = f"{BASE}/service"
SERVICE_ORDER_PATH = "/tmf-api/serviceOrdering/v4/serviceOrder"
PRODUCT_ORDER_PATH = "/tmf-api/productOrderingManagement/v4/productOrder"
PRODUCT_PATH = "/tmf-api/productInventory/v4/product"
CUSTOMER_PATH = "/tmf-api/customerManagement/v4/customer"
RESOURCE_PATH = "/tmf-api/resourceInventoryManagement/v4/resource"
TO_WIRE = {ServiceState.DESIGNED: "designed", ServiceState.RESERVED: "reserved",
           ServiceState.ACTIVATED: "active", ServiceState.TERMINATED: "terminated",
           ServiceState.FAILED: "inactive"}
FROM_WIRE = {wire: state for state, wire in TO_WIRE.items()}
DESCRIPTIONS = {ServiceSpec.MOBILE_BROADBAND: "Mobile line", ServiceSpec.DATA_SERVICE: "Data service of line",
                ServiceSpec.VOICE_SERVICE: "Voice service of line"}
S = service.c
FILTERS = ("id", "state", "category", "serviceSpecification.id", "serviceSpecification.name", "relatedEntity.id",
           "relatedParty.id", "serviceOrderItem.serviceOrderId")
# Every line runs on our own network: the PLMN (MCC 525, MNC 01) our IMSIs are issued under.
HOME_MCC, HOME_MNC = IMSI_PREFIX[:3], IMSI_PREFIX[3:5]
HOME_NETWORK = {"id": f"PLMN-{HOME_MCC}-{HOME_MNC}", "href": f"urn:bss-cli:place:plmn:{HOME_MCC}-{HOME_MNC}",
                "name": f"home network (MCC {HOME_MCC}, MNC {HOME_MNC})", "role": "homeNetwork",
                "@referredType": "Place"}

router = BssRouter(prefix=BASE, tags=["serviceInventory"])


def conditions(filters: dict[str, str]) -> list[ColumnElement[bool]]:
    """Translate TMF equality filters into SQL conditions on services (400 on unknown values)."""
    found: list[ColumnElement[bool]] = []
    for key, value in filters.items():
        if key == "state":
            if value not in FROM_WIRE:
                raise MalformedRequest("request.malformed", f"state: unknown service state '{value}'",
                                       {"field": "state", "allowed": sorted(FROM_WIRE)})
            found.append(S.state == FROM_WIRE[value].value)
        elif key == "relatedEntity.id":
            found.append(or_(S.product_order_id == value, S.subscription_id == value))
        elif key == "relatedParty.id":
            found.append(service_order.c.customer_id == value)
        else:
            column = {"id": S.id, "category": S.kind, "serviceSpecification.id": S.spec_name,
                      "serviceSpecification.name": S.spec_name,
                      "serviceOrderItem.serviceOrderId": S.service_order_id}[key]
            found.append(column == value)
    return found


async def load_services(conn: AsyncConnection, where: list[ColumnElement[bool]],
                        query: ListQuery | None = None) -> tuple[int, list[Any], dict[str, list[Any]]]:
    """Return (total, rows with the customer id, RFS rows by their CFS id) for a page of services."""
    base = (select(service, service_order.c.customer_id)
            .join(service_order, service_order.c.id == S.service_order_id))
    total = (await conn.execute(select(func.count()).select_from(base.where(*where).subquery()))).scalar_one()
    page = base.where(*where).order_by(S.id)
    if query is not None:
        page = page.offset(query.offset).limit(query.limit)
    rows = (await conn.execute(page)).all()
    cfs_ids = [r.id for r in rows if r.kind == ServiceKind.CFS]
    children: dict[str, list[Any]] = {}
    if cfs_ids:
        rfs = select(service).where(S.parent_service_id.in_(cfs_ids)).order_by(S.id)
        for child in await conn.execute(rfs):
            children.setdefault(child.parent_service_id, []).append(child)
    return total, rows, children


def service_ref(request: Request, path: str, row: Any) -> dict[str, Any]:
    """A `ServiceRef` to a service row."""
    return {"id": row.id, "href": href(request, f"{path}/{row.id}"), "name": row.spec_name,
            "@referredType": "Service"}


def to_tmf(row: Any, request: Request, children: list[Any], path: str = SERVICE_PATH) -> dict[str, Any]:
    """Render a service row as a TMF638/TMF640 `Service` (every attribute TMF clients check)."""
    chars = row.characteristics or {}
    msisdn, iccid = chars.get("msisdn"), chars.get("iccid")
    spec = ServiceSpec(row.spec_name)
    resources = [{"id": msisdn, "href": href(request, f"{RESOURCE_PATH}/{msisdn}"), "name": msisdn,
                  "@referredType": "MSISDN"}] if msisdn else []
    if iccid and spec is ServiceSpec.MOBILE_BROADBAND:
        resources.append({"id": iccid, "href": href(request, f"{RESOURCE_PATH}/{iccid}"), "name": iccid,
                          "@referredType": "ESimProfile"})
    entities = [ref(request, PRODUCT_ORDER_PATH, row.product_order_id, "ProductOrder")
                | {"role": "productOrder"}]
    if row.subscription_id:
        entities.append(ref(request, PRODUCT_PATH, row.subscription_id, "Product") | {"role": "product"})
    # Both ways: the CFS relies on each RFS, each RFS supports its CFS.
    relationships = [{"relationshipType": "reliesOn", "service": service_ref(request, path, child)}
                     for child in children]
    if row.parent_service_id:
        relationships.append({"relationshipType": "supports", "service": {
            "id": row.parent_service_id, "href": href(request, f"{path}/{row.parent_service_id}"),
            "name": ServiceSpec.MOBILE_BROADBAND.value, "@referredType": "Service"}})
    return {
        "id": row.id, "href": href(request, f"{path}/{row.id}"), "@type": "Service",
        "name": f"{spec.value} {msisdn or ''}".strip(),
        "description": f"{DESCRIPTIONS[spec]} {msisdn or ''}".strip(),
        "category": row.kind, "serviceType": "mobile", "state": TO_WIRE[ServiceState(row.state)],
        "isServiceEnabled": row.state == ServiceState.ACTIVATED, "hasStarted": row.activated_at is not None,
        "isStateful": True, "serviceDate": iso(row.created_at),
        "startDate": iso(row.activated_at or row.created_at),
        **({"endDate": iso(row.terminated_at)} if row.terminated_at else {}),
        "serviceSpecification": {"id": spec.value, "href": f"urn:bss-cli:serviceSpecification:{spec.value}",
                                 "name": spec.value, "version": "1.0", "@referredType": "ServiceSpecification"},
        "serviceCharacteristic": [characteristic(name, value) for name, value in sorted(chars.items())],
        "place": [dict(HOME_NETWORK)],
        "relatedParty": [ref(request, CUSTOMER_PATH, row.customer_id, "Customer") | {"role": "customer"}],
        "relatedEntity": entities,
        "serviceOrderItem": [{
            "serviceOrderId": row.service_order_id, "itemId": row.id, "itemAction": "add",
            "role": "initiator",
            "serviceOrderHref": href(request, f"{SERVICE_ORDER_PATH}/{row.service_order_id}"),
            "@referredType": "ServiceOrder"}],
        "serviceRelationship": relationships,
        "supportingService": [service_ref(request, path, child) for child in children],
        "supportingResource": resources,
    }


def characteristic(name: str, value: Any) -> dict[str, Any]:
    """A TMF `Characteristic` with its JSON value type."""
    kind = ("boolean" if isinstance(value, bool) else "number" if isinstance(value, int | float)
            else "object" if isinstance(value, dict) else "array" if isinstance(value, list) else "string")
    return {"name": name, "valueType": kind, "value": value}


async def read_service(request: Request, service_id: str,
                       path: str = SERVICE_PATH) -> tuple[dict[str, Any], Any]:
    """One service rendered for the wire, and its row (404 when unknown)."""
    async with get_engine().connect() as conn:
        _, rows, children = await load_services(conn, [S.id == service_id])
    if not rows:
        raise NotFound("service", service_id)
    return to_tmf(rows[0], request, children.get(service_id, []), path), rows[0]


@router.get("/service", scope=Scope.SERVICE_READ)
async def list_services(request: Request) -> JSONResponse:
    """List services, filterable by state, category, serviceSpecification.name, relatedEntity.id, …"""
    query = parse_list_query(request, FILTERS)
    async with get_engine().connect() as conn:
        total, rows, children = await load_services(conn, conditions(query.filters), query)
    return list_response([to_tmf(r, request, children.get(r.id, [])) for r in rows], total, query)


@router.get("/service/{service_id}", scope=Scope.SERVICE_READ)
async def get_service(service_id: str, request: Request) -> JSONResponse:
    """Show one service (CFS or RFS) with its characteristics, relations and resources."""
    body, _ = await read_service(request, service_id)
    return tmf_response(body)
