"""TMF678 Customer Bill at `/tmf-api/customerBillManagement/v4`: bills and their applied billing rates (read-only).

Bills are issued by the flows (`activities.billing.issue_bill`), one per charge. Prepaid bills are
paid when issued, so `state` is `settled`, `remainingAmount` is zero and `appliedPayment` names the
TMF676 payment; a later refund is a TMF676 `Refund` of that payment and leaves the bill settled
(TMF678 has no refunded state). `category` is what the bill is for (activation, renewal, vas,
planChange, onDemand); `runType` is `onCycle` for renewals. `billDocument` links the rendered text bill at
`/billing-api/v1/bill/{id}/document`. Each rate's `product` is the line; `characteristic` names
the offering. Bill filters: `id`, `relatedParty.id`, `billingAccount.id`, `state`, `category`;
rate filters: `id`, `bill.id`, `product.id`, `relatedParty.id`, `isBilled`, `type`. A comma means "any of".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import ColumnElement, select
from sqlalchemy.sql import Select

from apis.routing import BssRouter
from apis.tmf import href, iso, list_response, parse_list_query, ref, select_fields, tmf_response
from apis.tmf637_product import (
    CUSTOMER_PATH,
    OFFERING_PATH,
    PRODUCT_PATH,
    any_of,
    count_and_page,
    enum_value,
    fields_of,
    money,
    where,
)
from core.db import get_engine
from core.errors import MalformedRequest, NotFound
from core.scopes import Scope
from domain.billing import BillKind, BillState, RateType, applied_billing_rate, customer_bill
from domain.catalog import product_offering
from domain.money import Money
from domain.payment import payment, payment_method

BASE = "/tmf-api/customerBillManagement/v4"
BILL_PATH = f"{BASE}/customerBill"
RATE_PATH = f"{BASE}/appliedCustomerBillingRate"
PAYMENT_PATH = "/tmf-api/paymentManagement/v4/payment"
METHOD_PATH = "/tmf-api/paymentMethod/v4/paymentMethod"
DOCUMENT_PATH = "/billing-api/v1/bill"
CATEGORY = {BillKind.ACTIVATION: "activation", BillKind.RENEWAL: "renewal", BillKind.VAS: "vas",
            BillKind.PLAN_CHANGE: "planChange", BillKind.ON_DEMAND: "onDemand"}
KIND_OF_CATEGORY = {wire: kind.value for kind, wire in CATEGORY.items()}
# Every domain state was paid in full at issue; TMF's other states name nothing we have.
STATES = {"settled": [s.value for s in BillState], "new": [], "onHold": [], "validated": [], "sent": [],
          "partiallyPaid": []}
RATE_TYPE = {RateType.RECURRING: "recurringCharge", RateType.ONE_TIME: "oneTimeCharge"}
RATE_TYPE_OF_WIRE = {wire: rate.value for rate, wire in RATE_TYPE.items()}

tmf = BssRouter(prefix=BASE, tags=["TMF678 customer bill"])
documents = BssRouter(prefix=DOCUMENT_PATH, tags=["billing"])


def _states(value: str) -> ColumnElement[bool]:
    wanted = [v.strip() for v in value.split(",") if v.strip()]
    if unknown := [v for v in wanted if v not in STATES]:
        raise MalformedRequest("request.malformed", f"state must be one of {', '.join(STATES)}",
                               {"field": "state", "value": unknown[0]})
    return customer_bill.c.state.in_([s for v in wanted for s in STATES[v]])


def _is_billed(value: str) -> ColumnElement[bool]:
    if value not in ("true", "false"):
        raise MalformedRequest("request.malformed", "isBilled must be true or false", {"field": "isBilled"})
    return applied_billing_rate.c.is_billed.is_(value == "true")


BILL_FILTERS: dict[str, Callable[[str], ColumnElement[bool]]] = {
    "id": lambda v: any_of(customer_bill.c.id, v),
    "relatedParty.id": lambda v: any_of(customer_bill.c.customer_id, v),
    "billingAccount.id": lambda v: any_of(customer_bill.c.customer_id, v),
    "state": _states,
    "category": lambda v: any_of(customer_bill.c.kind, v, enum_value("category", KIND_OF_CATEGORY)),
}
RATE_FILTERS: dict[str, Callable[[str], ColumnElement[bool]]] = {
    "id": lambda v: any_of(applied_billing_rate.c.id, v),
    "bill.id": lambda v: any_of(applied_billing_rate.c.bill_id, v),
    "product.id": lambda v: any_of(applied_billing_rate.c.subscription_id, v),
    # the customer of the bill the rate sits on (how a customer's own rates are listed)
    "relatedParty.id": lambda v: applied_billing_rate.c.bill_id.in_(
        select(customer_bill.c.id).where(any_of(customer_bill.c.customer_id, v))),
    "isBilled": _is_billed,
    "type": lambda v: any_of(applied_billing_rate.c.rate_type, v, enum_value("type", RATE_TYPE_OF_WIRE)),
}


def _bills() -> Select:
    return (select(customer_bill, payment.c.payment_method_id, payment_method.c.brand, payment_method.c.last4)
            .outerjoin(payment, payment.c.id == customer_bill.c.payment_id)
            .outerjoin(payment_method, payment_method.c.id == payment.c.payment_method_id))


def _rates() -> Select:
    return (select(applied_billing_rate, customer_bill.c.bill_date, product_offering.c.name.label("offering_name"))
            .join(customer_bill, customer_bill.c.id == applied_billing_rate.c.bill_id)
            .outerjoin(product_offering, product_offering.c.id == applied_billing_rate.c.offering_id))


def _period(row: Any) -> dict[str, Any]:
    return {"startDateTime": iso(row["period_start"]), "endDateTime": iso(row["period_end"])}


def bill_to_tmf(row: Any, request: Request) -> dict[str, Any]:
    """Map a bill row (with its payment's card) to a TMF678 `CustomerBill`."""
    customer = ref(request, CUSTOMER_PATH, row["customer_id"], "Customer")
    document = href(request, f"{DOCUMENT_PATH}/{row['id']}/document")
    total = money(row["amount_minor"], row["currency"])
    body: dict[str, Any] = {
        "id": row["id"], "href": href(request, f"{BILL_PATH}/{row['id']}"), "@type": "CustomerBill",
        "billNo": row["id"], "billDate": iso(row["bill_date"]), "lastUpdate": iso(row["created_at"]),
        "category": CATEGORY[BillKind(row["kind"])],
        "runType": "onCycle" if row["kind"] == BillKind.RENEWAL else "offCycle",
        "state": "settled", "amountDue": total, "taxIncludedAmount": total,
        "remainingAmount": money(0, row["currency"]), "billingPeriod": _period(row),
        "billingAccount": {**customer, "@referredType": "BillingAccount"},
        "relatedParty": [customer | {"role": "customer"}],
        "billDocument": [{"id": f"{row['id']}-document", "href": document, "url": document, "name": f"Bill {row['id']}",
                          "mimeType": "text/plain", "attachmentType": "bill", "@type": "AttachmentRefOrValue"}],
    }
    if row["payment_id"]:
        body["appliedPayment"] = [{"appliedAmount": total, "@type": "AppliedPayment",
                                   "payment": ref(request, PAYMENT_PATH, row["payment_id"], "Payment")}]
    if row["payment_method_id"]:
        body["paymentMethod"] = ref(request, METHOD_PATH, row["payment_method_id"], "PaymentMethod",
                                    f"{row['brand']} •••• {row['last4']}")
    return body


def rate_to_tmf(row: Any, request: Request) -> dict[str, Any]:
    """Map an applied billing rate row to a TMF678 `AppliedCustomerBillingRate`."""
    return {
        "id": row["id"], "href": href(request, f"{RATE_PATH}/{row['id']}"), "@type": "AppliedCustomerBillingRate",
        "name": row["offering_name"] or row["offering_id"], "description": row["description"],
        "date": iso(row["bill_date"]), "isBilled": row["is_billed"], "type": RATE_TYPE[RateType(row["rate_type"])],
        "bill": ref(request, BILL_PATH, row["bill_id"], "CustomerBill"),
        "product": ref(request, PRODUCT_PATH, row["subscription_id"], "Product"),
        "periodCoverage": _period(row), "taxIncludedAmount": money(row["amount_minor"], row["currency"]),
        "characteristic": [{"name": "productOffering", "valueType": "object",
                            "value": ref(request, OFFERING_PATH, row["offering_id"], "ProductOffering",
                                         row["offering_name"])}],
    }


async def _one(query: Select, aggregate: str, ident: str) -> Any:
    async with get_engine().connect() as conn:
        row = (await conn.execute(query)).mappings().one_or_none()
    if row is None:
        raise NotFound(aggregate, ident)
    return row


@tmf.get("/customerBill", scope=Scope.BILL_READ, owner_filter="relatedParty.id")
async def list_bills(request: Request) -> JSONResponse:
    """List bills, newest first (filters: id, relatedParty.id, billingAccount.id, state, category)."""
    query = parse_list_query(request, BILL_FILTERS)
    total, rows = await count_and_page(_bills(), where(query.filters, BILL_FILTERS),
                                       (customer_bill.c.bill_date.desc(), customer_bill.c.id.desc()),
                                       query.offset, query.limit)
    return list_response([bill_to_tmf(row, request) for row in rows], total, query)


@tmf.get("/customerBill/{bill_id}", scope=Scope.BILL_READ)
async def get_bill(bill_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one bill."""
    row = await _one(_bills().where(customer_bill.c.id == bill_id), "bill", bill_id)
    return tmf_response(select_fields(bill_to_tmf(row, request), fields_of(fields)))


@tmf.get("/appliedCustomerBillingRate", scope=Scope.BILL_READ, owner_filter="relatedParty.id")
async def list_rates(request: Request) -> JSONResponse:
    """List applied billing rates (filters: id, bill.id, product.id, isBilled, type)."""
    query = parse_list_query(request, RATE_FILTERS)
    total, rows = await count_and_page(_rates(), where(query.filters, RATE_FILTERS),
                                       (applied_billing_rate.c.bill_id, applied_billing_rate.c.id),
                                       query.offset, query.limit)
    return list_response([rate_to_tmf(row, request) for row in rows], total, query)


@tmf.get("/appliedCustomerBillingRate/{rate_id}", scope=Scope.BILL_READ)
async def get_rate(rate_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one applied billing rate."""
    row = await _one(_rates().where(applied_billing_rate.c.id == rate_id), "applied_billing_rate", rate_id)
    return tmf_response(select_fields(rate_to_tmf(row, request), fields_of(fields)))


def _amount(minor: int, currency: str) -> str:
    return Money(minor, currency).format()


@documents.get("/{bill_id}/document", scope=Scope.BILL_READ, response_class=PlainTextResponse)
async def bill_document(bill_id: str) -> PlainTextResponse:
    """The bill as a plain-text document (what `billDocument` links)."""
    bill = await _one(_bills().where(customer_bill.c.id == bill_id), "bill", bill_id)
    async with get_engine().connect() as conn:
        rates = (await conn.execute(_rates().where(applied_billing_rate.c.bill_id == bill_id)
                                    .order_by(applied_billing_rate.c.id))).mappings().all()
    period = f"{bill['period_start']:%Y-%m-%d} – {bill['period_end']:%Y-%m-%d}"
    lines = [f"BILL {bill['id']}", f"customer  {bill['customer_id']}", f"line      {bill['subscription_id']}",
             f"for       {bill['kind']}", f"period    {period}", f"issued    {bill['bill_date']:%Y-%m-%d %H:%M} UTC",
             f"state     {bill['state']}", ""]
    lines += [f"{r['description']:<48} {_amount(r['amount_minor'], r['currency']):>14}" for r in rates]
    lines += ["-" * 63, f"{'TOTAL (tax incl.)':<48} {_amount(bill['amount_minor'], bill['currency']):>14}"]
    if bill["payment_id"]:
        card = f" with {bill['brand']} •••• {bill['last4']}" if bill["brand"] else ""
        lines.append(f"paid by {bill['payment_id']}{card}")
    return PlainTextResponse("\n".join(lines) + "\n")


router = BssRouter()
router.include_router(tmf)
router.include_router(documents)
