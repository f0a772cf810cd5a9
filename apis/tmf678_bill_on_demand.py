"""TMF678 `customerBillOnDemand`: a care agent bills a charge that no flow billed (a manual TMF676 payment).

Our bills are prepaid, one per charge, each settled by its payment (activities/billing.py). The flows
bill activations, renewals and VAS themselves; a manual charge (`POST /payment`) has no bill until
someone asks for one here. The request names the customer (`billingAccount.id` or `relatedParty.id`; both must agree),
the line the charge is for (`product.id`, an extension: a bill always belongs to a line) and the
`payment` that settles it (extension). Its lines are `appliedCustomerBillingRate` items (extension:
`description`, `type` oneTimeCharge | recurringCharge, `taxIncludedAmount` Money in the catalog currency
when `unit` is left out, optional `productOffering`, else the line's plan); without items, one
one-time line of the payment's amount named by `description`. `billingPeriod` defaults to the instant
of the request. Everything `issue_bill` checks answers here with its rule code: at least one line, no
negative line, one known currency, the line is the customer's, and a positive bill needs an approved
payment of that customer for exactly its total that settles no other bill. The bill is issued at once,
so a request is `done` when answered (a refused one is a 422 and leaves nothing); its id is `BOD-<bill
number>`, `customerBill` names the bill. `name`, `state`, `lastUpdate` and `customerBill` are the
server's (accepted and ignored). The `Idempotency-Key` header makes a retry answer with the first bill.
Operators only (`bill:issue`). Filters: `id`, `billingAccount.id`, `relatedParty.id`, `state`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, select
from sqlalchemy.sql import Select

from activities.billing import issue_bill
from apis.routing import BssRouter
from apis.tmf import EntityRef as Ref
from apis.tmf import href, iso, list_response, parse_list_query, ref, select_fields, tmf_response
from apis.tmf637_product import CUSTOMER_PATH, any_of, count_and_page, fields_of, where
from apis.tmf678_bill import BILL_PATH
from core import clock
from core.db import get_engine
from core.errors import MalformedRequest, NotFound
from core.scopes import Scope
from domain.billing import BillKind, BillLine, IssueBill, RateType, applied_billing_rate, customer_bill
from domain.catalog import CURRENCY
from domain.money import MINOR_UNITS
from domain.payment import payment
from domain.subscription import subscription
from policies.base import raise_if, violation

BASE = "/tmf-api/customerBillManagement/v4"
ON_DEMAND_PATH = f"{BASE}/customerBillOnDemand"
PREFIX = "BOD-"
BILLING_ACCOUNT_REQUIRED = "bill.on_demand.billing_account_required"
PRODUCT_REQUIRED = "bill.on_demand.product_required"
PARTY_MATCHES = "bill.on_demand.related_party_matches"
MINOR_UNIT_PRECISION = "bill.on_demand.minor_unit_precision"
AMOUNT_REQUIRED = "bill.on_demand.amount_required"
RATE_TYPE_OF_WIRE = {"oneTimeCharge": RateType.ONE_TIME, "recurringCharge": RateType.RECURRING}

router = BssRouter(prefix=BASE, tags=["TMF678 customer bill"])


class Amount(BaseModel):
    """A TMF Money (`unit` defaults to the catalog currency)."""

    model_config = ConfigDict(extra="allow")
    value: Decimal | None = None
    unit: str | None = Field(default=None, max_length=20)


class Item(BaseModel):
    """One line of the bill asked for (an AppliedCustomerBillingRate, extension)."""

    model_config = ConfigDict(extra="allow")
    description: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    type: Literal["oneTimeCharge", "recurringCharge"] = "oneTimeCharge"
    taxIncludedAmount: Amount
    productOffering: Ref | None = None


class Period(BaseModel):
    """A TMF TimePeriod."""

    model_config = ConfigDict(extra="allow")
    startDateTime: dt.datetime | None = None
    endDateTime: dt.datetime | None = None


class BillOnDemandCreate(BaseModel):
    """Body of POST /customerBillOnDemand: the spec's CustomerBillOnDemand_Create plus our extensions."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    billingAccount: Ref | None = None
    relatedParty: Ref | None = None
    description: str | None = Field(default=None, max_length=200)
    # Server-set in our answer: accepted and ignored.
    name: str | None = None
    state: str | None = Field(default=None, pattern="^(inProgress|rejected|done|terminatedWithError)$")
    lastUpdate: str | None = None
    customerBill: Ref | None = None
    # Extensions: the line, the payment that settles the bill, its lines and period.
    product: Ref | None = None
    payment: Ref | None = None
    appliedCustomerBillingRate: list[Item] | None = Field(default=None, max_length=50)
    billingPeriod: Period | None = None
    type_: str | None = Field(default=None, alias="@type")
    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")


def _minor(amount: Amount, at: str) -> tuple[int, str]:
    """(minor units, currency) of a Money; a currency we do not know is left to the bill's own check."""
    currency = amount.unit or CURRENCY
    if len(currency) != 3:  # no ISO code at all: the bill's own currency rule says so
        raise_if([violation("bill.issue.currency_known", f"unknown currency {currency}", currencies=[currency])])
    if amount.value is None:
        raise_if([violation(AMOUNT_REQUIRED, f"{at}: say how much (taxIncludedAmount.value)")])
    scaled = amount.value * 10 ** MINOR_UNITS.get(currency, 2)
    if scaled != scaled.to_integral_value():
        raise_if([violation(MINOR_UNIT_PRECISION, f"{at}: {amount.value} {currency} is finer than its minor unit",
                            value=str(amount.value), currency=currency)])
    return int(scaled), currency


async def _lines(body: BillOnDemandCreate, plan: str) -> list[BillLine]:
    """The bill's lines: the items asked for, else one line of the payment's amount."""
    described = body.description or "On-demand charge"
    if body.appliedCustomerBillingRate is not None:
        lines = []
        for n, item in enumerate(body.appliedCustomerBillingRate, start=1):
            minor, currency = _minor(item.taxIncludedAmount, f"appliedCustomerBillingRate[{n}]")
            lines.append(BillLine(offering_id=item.productOffering.id if item.productOffering else plan,
                                  description=item.description or item.name or described, amount_minor=minor,
                                  currency=currency, rate_type=RATE_TYPE_OF_WIRE[item.type]))
        return lines
    if body.payment is None:
        return []  # nothing to bill: bill.issue.lines_required says so
    async with get_engine().connect() as conn:
        paid = (await conn.execute(select(payment.c.amount_minor, payment.c.currency)
                                   .where(payment.c.id == body.payment.id))).first()
    if paid is None:
        raise NotFound("payment", body.payment.id)
    return [BillLine(offering_id=plan, description=described, amount_minor=paid.amount_minor,
                     currency=paid.currency, rate_type=RateType.ONE_TIME)]


def _period(body: BillOnDemandCreate) -> tuple[dt.datetime, dt.datetime]:
    now = clock.now()
    period = body.billingPeriod or Period()
    start, end = period.startDateTime or now, period.endDateTime or period.startDateTime or now
    if start.tzinfo is None or end.tzinfo is None:
        raise MalformedRequest("request.malformed", "billingPeriod dates need a time zone",
                               {"field": "billingPeriod"})
    return start, end


def on_demand_to_tmf(row: Any, request: Request) -> dict[str, Any]:
    """Map an on-demand bill row to a TMF678 `CustomerBillOnDemand` (always `done`: issued when asked)."""
    ident = PREFIX + row["id"].removeprefix("BILL-")
    customer = ref(request, CUSTOMER_PATH, row["customer_id"], "Customer")
    return {
        "id": ident, "href": href(request, f"{ON_DEMAND_PATH}/{ident}"), "@type": "CustomerBillOnDemand",
        "name": f"On-demand bill {row['id']}", "description": row["first_line"] or f"On-demand bill {row['id']}",
        "state": "done", "lastUpdate": iso(row["created_at"]),
        "billingAccount": {**customer, "@referredType": "BillingAccount"},
        "relatedParty": customer | {"role": "customer"},
        "customerBill": ref(request, BILL_PATH, row["id"], "CustomerBill"),
    }


def _on_demand() -> Select:
    first = (select(applied_billing_rate.c.description).where(applied_billing_rate.c.bill_id == customer_bill.c.id)
             .order_by(applied_billing_rate.c.id).limit(1).scalar_subquery().label("first_line"))
    return select(customer_bill, first).where(customer_bill.c.kind == BillKind.ON_DEMAND.value)


def _state(value: str) -> ColumnElement[bool]:
    wanted = {v.strip() for v in value.split(",")}
    if unknown := wanted - {"inProgress", "rejected", "done", "terminatedWithError"}:
        raise MalformedRequest("request.malformed", "state must be inProgress, rejected, done or terminatedWithError",
                               {"field": "state", "value": min(unknown)})
    return customer_bill.c.id.is_not(None) if "done" in wanted else customer_bill.c.id.is_(None)


FILTERS: dict[str, Callable[[str], ColumnElement[bool]]] = {
    "id": lambda v: any_of(customer_bill.c.id, v, lambda i: "BILL-" + i.removeprefix(PREFIX)),
    "billingAccount.id": lambda v: any_of(customer_bill.c.customer_id, v),
    "relatedParty.id": lambda v: any_of(customer_bill.c.customer_id, v),
    "state": _state,
}


async def _one(bill_id: str, ident: str) -> Any:
    async with get_engine().connect() as conn:
        row = (await conn.execute(_on_demand().where(customer_bill.c.id == bill_id))).mappings().first()
    if row is None:
        raise NotFound("customer_bill_on_demand", ident)
    return row


@router.post("/customerBillOnDemand", scope=Scope.BILL_ISSUE, status_code=201)
async def create_on_demand(body: BillOnDemandCreate, request: Request,
                           idempotency_key: str | None = Header(default=None, alias="Idempotency-Key",
                                                                max_length=180)) -> JSONResponse:
    """Issue the bill of a charge on request: the customer's line, the settling payment, the lines."""
    customer = body.billingAccount or body.relatedParty
    found = []
    if customer is None:
        found.append(violation(BILLING_ACCOUNT_REQUIRED, "name the customer billed (billingAccount.id)"))
    elif body.billingAccount and body.relatedParty and body.relatedParty.id != body.billingAccount.id:
        found.append(violation(PARTY_MATCHES, "relatedParty and billingAccount name different customers",
                               billing_account_id=body.billingAccount.id, related_party_id=body.relatedParty.id))
    if body.product is None:
        found.append(violation(PRODUCT_REQUIRED, "name the line the charge is for (product.id)"))
    raise_if(found)
    assert customer is not None and body.product is not None
    async with get_engine().connect() as conn:
        plan = (await conn.execute(select(subscription.c.offering_id)
                                   .where(subscription.c.id == body.product.id))).scalar_one_or_none()
    if plan is None:
        raise NotFound("subscription", body.product.id)
    start, end = _period(body)
    issued = await issue_bill(IssueBill(
        idempotency_key=f"bill-on-demand:{idempotency_key or uuid.uuid4()}", customer_id=customer.id,
        subscription_id=body.product.id, kind=BillKind.ON_DEMAND, payment_id=body.payment.id if body.payment else None,
        period_start=start, period_end=end, lines=await _lines(body, plan)))
    row = await _one(issued.bill_id, issued.bill_id)
    return tmf_response(on_demand_to_tmf(row, request), status=201 if issued.created else 200)


@router.get("/customerBillOnDemand", scope=Scope.BILL_ISSUE)
async def list_on_demand(request: Request) -> JSONResponse:
    """List on-demand bill requests, newest first (filters: id, billingAccount.id, relatedParty.id, state)."""
    query = parse_list_query(request, FILTERS)
    total, rows = await count_and_page(_on_demand(), where(query.filters, FILTERS),
                                       (customer_bill.c.bill_date.desc(), customer_bill.c.id.desc()),
                                       query.offset, query.limit)
    return list_response([on_demand_to_tmf(row, request) for row in rows], total, query)


@router.get("/customerBillOnDemand/{on_demand_id}", scope=Scope.BILL_ISSUE)
async def get_on_demand(on_demand_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one on-demand bill request (`BOD-<bill number>`)."""
    if not on_demand_id.startswith(PREFIX):
        raise NotFound("customer_bill_on_demand", on_demand_id)
    row = await _one("BILL-" + on_demand_id.removeprefix(PREFIX), on_demand_id)
    return tmf_response(select_fields(on_demand_to_tmf(row, request), fields_of(fields)))
