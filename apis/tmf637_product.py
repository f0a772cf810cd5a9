"""TMF637 Product Inventory at `/tmf-api/productInventory/v4/product`: a product is a subscription (a line).

Read-only here (lines are created by the order flow and changed by the subscription flow).
`status` maps our states onto `ProductStatusType` (pending → pendingActive, blocked → suspended);
our exact state, the MSISDN/ICCID, the current period and a pending plan change travel in
`productCharacteristic`. `productPrice` is the price snapshotted on the line, never the catalog's
current price. The customer is the billing account (prepaid: one account per customer).
Filters: `id`, `status`, `relatedParty.id`, `billingAccount.id`, `productOffering.id`,
`realizingResource.id` (an MSISDN or ICCID); a comma means "any of" (`status=active,suspended`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.sql import Select

from apis.routing import BssRouter
from apis.tmf import href, iso, list_response, parse_list_query, ref, select_fields, tmf_response
from core.db import get_engine
from core.errors import MalformedRequest, NotFound
from core.scopes import Scope
from domain.catalog import product_offering
from domain.money import Money
from domain.subscription import SubscriptionState, subscription

BASE = "/tmf-api/productInventory/v4"
PRODUCT_PATH = f"{BASE}/product"
CUSTOMER_PATH = "/tmf-api/customerManagement/v4/customer"
OFFERING_PATH = "/tmf-api/productCatalogManagement/v4/productOffering"
SPEC_PATH = "/tmf-api/productCatalogManagement/v4/productSpecification"
ORDER_PATH = "/tmf-api/productOrderingManagement/v4/productOrder"
RESOURCE_PATH = "/tmf-api/resourceInventoryManagement/v4/resource"
STATUS = {SubscriptionState.PENDING: "pendingActive", SubscriptionState.ACTIVE: "active",
          SubscriptionState.BLOCKED: "suspended", SubscriptionState.TERMINATED: "terminated"}
STATE_OF_STATUS = {status: state.value for state, status in STATUS.items()}

router = BssRouter(prefix=BASE, tags=["TMF637 product inventory"])

plan = product_offering.alias("plan")
pending = product_offering.alias("pending_plan")


def any_of(column: Any, raw: str, convert: Callable[[str], str] | None = None) -> ColumnElement[bool]:
    """`column = value`, or `IN (…)` for a comma-separated list (TMF630: a comma is OR)."""
    values = [v.strip() for v in raw.split(",") if v.strip()]
    return column.in_([convert(v) for v in values] if convert else values)


def enum_value(field: str, known: dict[str, str]) -> Callable[[str], str]:
    """A converter for `any_of` that maps wire enum values to ours and refuses unknown ones (400)."""
    def convert(value: str) -> str:
        if value not in known:
            raise MalformedRequest("request.malformed", f"{field} must be one of {', '.join(known)}",
                                   {"field": field, "value": value})
        return known[value]
    return convert


FILTERS: dict[str, Callable[[str], ColumnElement[bool]]] = {
    "id": lambda v: any_of(subscription.c.id, v),
    "status": lambda v: any_of(subscription.c.state, v, enum_value("status", STATE_OF_STATUS)),
    "relatedParty.id": lambda v: any_of(subscription.c.customer_id, v),
    "billingAccount.id": lambda v: any_of(subscription.c.customer_id, v),
    "productOffering.id": lambda v: any_of(subscription.c.offering_id, v),
    "realizingResource.id": lambda v: or_(any_of(subscription.c.msisdn, v), any_of(subscription.c.iccid, v)),
}


def where(filters: dict[str, str], known: dict[str, Callable[[str], ColumnElement[bool]]]) -> list[Any]:
    """The SQL conditions of parsed TMF equality filters."""
    return [known[name](value) for name, value in filters.items()]


def money(minor: int, currency: str) -> dict[str, Any]:
    """A TMF `Money` in major units."""
    return {"unit": currency, "value": Money(minor, currency).major}


def _products() -> Select:
    return (select(subscription, plan.c.name.label("offering_name"), plan.c.specification_id,
                   pending.c.name.label("pending_offering_name"))
            .outerjoin(plan, plan.c.id == subscription.c.offering_id)
            .outerjoin(pending, pending.c.id == subscription.c.pending_offering_id))


def _char(name: str, value: Any, value_type: str) -> dict[str, Any]:
    return {"name": name, "value": value, "valueType": value_type}


def characteristics(row: Any, request: Request) -> list[dict[str, Any]]:
    """Our line facts TMF has no attribute for: exact state, numbers, period, pending plan change."""
    chars = [_char("subscriptionState", row["state"], "string"), _char("msisdn", row["msisdn"], "string")]
    if row["iccid"]:
        chars.append(_char("iccid", row["iccid"], "string"))
    if row["blocked_reason"]:
        chars.append(_char("blockedReason", row["blocked_reason"], "string"))
    if row["current_period_start"]:
        chars += [_char("periodStart", iso(row["current_period_start"]), "dateTime"),
                  _char("periodEnd", iso(row["current_period_end"]), "dateTime")]
    chars += [_char("periodNumber", row["period_number"], "integer"),
              _char("periodDays", row["period_days"], "integer")]
    if row["pending_offering_id"]:
        change: dict[str, Any] = {"productOffering": ref(request, OFFERING_PATH, row["pending_offering_id"],
                                                         "ProductOffering", row["pending_offering_name"])}
        if row["pending_price_minor"] is not None:
            change["price"] = money(row["pending_price_minor"], row["currency"])
        chars.append(_char("pendingPlanChange", change, "object"))
    return chars


def product_to_tmf(row: Any, request: Request) -> dict[str, Any]:
    """Map a subscription row (with its offering names) to a TMF637 `Product`."""
    customer = ref(request, CUSTOMER_PATH, row["customer_id"], "Customer")
    resources = [ref(request, RESOURCE_PATH, row["msisdn"], "MSISDN", row["msisdn"]) | {"value": row["msisdn"]}]
    if row["iccid"]:
        resources.append(ref(request, RESOURCE_PATH, row["iccid"], "ESimProfile", row["iccid"]))
    body: dict[str, Any] = {
        "id": row["id"], "href": href(request, f"{PRODUCT_PATH}/{row['id']}"), "@type": "Product",
        "name": f"{row['offering_name'] or row['offering_id']} {row['msisdn']}",
        "isBundle": False, "isCustomerVisible": True, "status": STATUS[SubscriptionState(row["state"])],
        "startDate": iso(row["activated_at"]), "terminationDate": iso(row["terminated_at"]),
        "billingAccount": {**customer, "@referredType": "BillingAccount"},
        "productOffering": ref(request, OFFERING_PATH, row["offering_id"], "ProductOffering", row["offering_name"]),
        "productPrice": [{
            "@type": "ProductPrice", "name": "Plan price", "priceType": "recurring",
            "description": "snapshotted when the line was ordered; every renewal charges it",
            "recurringChargePeriod": f"{row['period_days']} days",
            "price": {"taxIncludedAmount": money(row["price_minor"], row["currency"])}}],
        "productCharacteristic": characteristics(row, request),
        "relatedParty": [customer | {"role": "customer"}],
        "realizingResource": resources,
    }
    if row["specification_id"]:
        body["productSpecification"] = ref(request, SPEC_PATH, row["specification_id"], "ProductSpecification")
    if row["order_id"]:
        body["productOrderItem"] = [{"productOrderId": row["order_id"], "orderItemId": "1", "orderItemAction": "add",
                                     "productOrderHref": href(request, f"{ORDER_PATH}/{row['order_id']}"),
                                     "@referredType": "ProductOrder"}]
    return {k: v for k, v in body.items() if v is not None}


def fields_of(raw: str | None) -> tuple[str, ...] | None:
    """The `fields` selection of an item GET."""
    return tuple(f.strip() for f in raw.split(",") if f.strip()) if raw else None


async def count_and_page(base: Select, conditions: Iterable[Any], order: Iterable[Any], offset: int,
                         limit: int) -> tuple[int, list[Any]]:
    """Total matching rows and one page of them."""
    conditions = list(conditions)
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(
            base.where(*conditions).subquery()))).scalar_one()
        rows = (await conn.execute(base.where(*conditions).order_by(*order).offset(offset).limit(limit))
                ).mappings().all()
    return total, list(rows)


@router.get("/product", scope=Scope.LINE_READ, owner_filter="relatedParty.id")
async def list_products(request: Request) -> JSONResponse:
    """List lines (filters: id, status, relatedParty.id, billingAccount.id, productOffering.id, realizingResource.id)."""
    query = parse_list_query(request, FILTERS)
    total, rows = await count_and_page(_products(), where(query.filters, FILTERS),
                                       (subscription.c.created_at, subscription.c.id), query.offset, query.limit)
    return list_response([product_to_tmf(row, request) for row in rows], total, query)


@router.get("/product/{product_id}", scope=Scope.LINE_READ)
async def get_product(product_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one line as a TMF637 product."""
    async with get_engine().connect() as conn:
        row = (await conn.execute(_products().where(subscription.c.id == product_id))).mappings().one_or_none()
    if row is None:
        raise NotFound("subscription", product_id)
    return tmf_response(select_fields(product_to_tmf(row, request), fields_of(fields)))
