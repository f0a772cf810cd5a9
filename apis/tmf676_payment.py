"""TMF676 Payment Management, served at `/tmf-api/paymentManagement/v4`: payments and refunds.

`POST /payment` is a manual charge of a customer's card (`account.id` is the customer;
`paymentMethod.id` picks a card, else the default one). `POST /refund` refunds an approved
payment, never more than was paid in total. Both are idempotent: the `Idempotency-Key` header,
else `correlatorId`, names the request, and a replay answers with the recorded resource.
`status` is ours (approved | declined | error); a decline reason is in `statusReason`.

Accept what the spec accepts: `Money.unit` and `Money.value` are optional in TMF676, so a
`totalAmount` without `unit` is in the catalog currency (`domain.catalog.CURRENCY`, SGD), and what we
cannot default answers 422 with a rule code, never 400: no `value` (`*.amount_required`), a currency we
do not take (`*.currency_supported`), an amount finer than its minor unit (`*.minor_unit_precision`),
and a refund that does not name its `payment` (`refund.create.requires_payment`; `Refund_Create`
leaves it optional, but we will not guess which payment to refund). Of the spec's other optional
attributes, `@baseType`/`@schemaLocation` are accepted and ignored, the server-set `authorizationCode`,
`paymentDate`/`refundDate` and `statusDate` are ignored (the gateway and we set them), and those we do not
keep (`channel`, `name`, `payer`; `requestor`) answer 422 `payment.charge.attribute_unsupported` /
`refund.create.attribute_unsupported` naming them, rather than being dropped silently.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from activities import payment as payments
from apis.routing import BssRouter
from apis.tmf import href, iso, list_response, parse_list_query, select_fields, tmf_response
from apis.tmf670_payment_method import CUSTOMER_PATH, METHOD_PATH, TMF_TYPE
from core.db import get_engine
from core.errors import NotFound
from core.scopes import Scope
from domain.catalog import CURRENCY
from domain.money import Money
from domain.payment import PaymentStatus, Purpose, payment, payment_method, refund
from policies.base import raise_if, violation
from policies.payment import check_charge, check_charge_amount, check_refund, check_refund_amount

BASE = "/tmf-api/paymentManagement/v4"
PAYMENT_PATH = f"{BASE}/payment"
REFUND_PATH = f"{BASE}/refund"
PAYMENT_FILTERS = {"id": payment.c.id, "account.id": payment.c.customer_id, "status": payment.c.status,
                   "paymentMethod.id": payment.c.payment_method_id, "correlatorId": payment.c.idempotency_key,
                   "name": payment.c.purpose}
REFUND_FILTERS = {"id": refund.c.id, "account.id": refund.c.customer_id, "status": refund.c.status,
                  "payment.id": refund.c.payment_id, "correlatorId": refund.c.idempotency_key}
REFERRED_TYPES = {"ORD": "ProductOrder", "SUB": "Product", "BILL": "CustomerBill"}

router = BssRouter(prefix=BASE, tags=["TMF676 payment"])


class RefIn(BaseModel):
    """A TMF entity reference (`AccountRef`, `PaymentMethodRef`, `PaymentRef`, `EntityRef`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str = Field(min_length=1, max_length=60)
    href: str | None = None
    name: str | None = None
    description: str | None = None
    referredType: str | None = Field(default=None, alias="@referredType")
    type_: str | None = Field(default=None, alias="@type")
    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")


class _SpecOnly(BaseModel):
    """Optional attributes of `Payment_Create`/`Refund_Create` we accept and ignore, or refuse with a 422."""

    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")
    authorizationCode: str | None = None  # set by the gateway: ignored
    statusDate: str | None = None  # server-set: ignored
    channel: Any = None
    name: str | None = None


def _unsupported(body: BaseModel, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if getattr(body, name) is not None]


class MethodRefIn(RefIn):
    """The card to charge; without an id, the customer's default card."""

    id: str | None = Field(default=None, min_length=1, max_length=60)  # type: ignore[assignment]


class MoneyIn(BaseModel):
    """A TMF `Money`: major units on the wire, exact minor units inside.

    Both attributes are optional in the spec: `unit` defaults to the catalog currency, a missing
    `value` is a 422 (`payment.charge.amount_required` / `refund.create.amount_required`).
    """

    model_config = ConfigDict(extra="forbid")
    unit: str = CURRENCY
    value: Decimal | None = None

    def to_money(self) -> Money:
        """The exact amount, once the policy accepted `value` and `unit` (`check_*_amount`)."""
        return Money.from_major(str(self.value), self.unit)


class PaymentItemIn(BaseModel):
    """What a payment pays for (an order, a subscription, a bill)."""

    model_config = ConfigDict(extra="forbid")
    item: RefIn
    id: str | None = None
    totalAmount: MoneyIn | None = None


class PaymentCreate(_SpecOnly):
    """Body of POST /payment (`Payment_Create`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    account: RefIn
    paymentMethod: MethodRefIn
    totalAmount: MoneyIn
    amount: MoneyIn | None = None
    taxAmount: MoneyIn | None = None
    correlatorId: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=200)
    paymentItem: list[PaymentItemIn] = Field(default_factory=list, max_length=1)
    type_: str | None = Field(default=None, alias="@type")  # Payment, else 422 type_known
    paymentDate: str | None = None  # server-set: ignored
    payer: Any = None


class RefundCreate(_SpecOnly):
    """Body of POST /refund (`Refund_Create`; `account` and `paymentMethod` follow from the payment)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    payment: RefIn | None = None
    totalAmount: MoneyIn
    account: RefIn | None = None
    paymentMethod: MethodRefIn | None = None
    amount: MoneyIn | None = None
    taxAmount: MoneyIn | None = None
    correlatorId: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=200)
    type_: str | None = Field(default=None, alias="@type")  # Refund, else 422 type_known
    refundDate: str | None = None  # server-set: ignored
    requestor: Any = None


def _money(minor: int, currency: str) -> dict[str, Any]:
    return {"unit": currency, "value": Money(minor, currency).major}


def _refs(row: Any, request: Request) -> dict[str, Any]:
    return {
        "account": {"id": row["customer_id"], "href": href(request, f"{CUSTOMER_PATH}/{row['customer_id']}"),
                    "@referredType": "Customer"},
        "paymentMethod": {"id": row["payment_method_id"],
                          "href": href(request, f"{METHOD_PATH}/{row['payment_method_id']}"),
                          "name": f"{row['brand']} •••• {row['last4']}", "@referredType": TMF_TYPE},
    }


def payment_to_tmf(row: Any, request: Request) -> dict[str, Any]:
    """Map a payment row (joined with its card) to a TMF676 `Payment`."""
    body = {
        "id": row["id"], "href": href(request, f"{PAYMENT_PATH}/{row['id']}"), "@type": "Payment",
        "name": row["purpose"], "correlatorId": row["idempotency_key"], "status": row["status"],
        "statusReason": row["decline_code"], "paymentDate": iso(row["created_at"]),
        "statusDate": iso(row["created_at"]),
        "authorizationCode": row["gateway_reference"] if row["status"] == PaymentStatus.APPROVED else None,
        "totalAmount": _money(row["amount_minor"], row["currency"]),
        "amount": _money(row["amount_minor"], row["currency"]), **_refs(row, request),
    }
    if row["reference"]:
        kind = REFERRED_TYPES.get(row["reference"].split("-", 1)[0], "Entity")
        body["paymentItem"] = [{"item": {"id": row["reference"], "@referredType": kind},
                                "totalAmount": body["totalAmount"]}]
    return {k: v for k, v in body.items() if v is not None}


def refund_to_tmf(row: Any, request: Request) -> dict[str, Any]:
    """Map a refund row (joined with its payment's card) to a TMF676 `Refund`."""
    body = {
        "id": row["id"], "href": href(request, f"{REFUND_PATH}/{row['id']}"), "@type": "Refund",
        "name": "refund", "description": row["reason"], "correlatorId": row["idempotency_key"],
        "status": row["status"], "statusReason": row["decline_code"], "refundDate": iso(row["created_at"]),
        "statusDate": iso(row["created_at"]), "authorizationCode": row["gateway_reference"],
        "totalAmount": _money(row["amount_minor"], row["currency"]),
        "amount": _money(row["amount_minor"], row["currency"]),
        "payment": {"id": row["payment_id"], "href": href(request, f"{PAYMENT_PATH}/{row['payment_id']}"),
                    "@referredType": "Payment"},
        **_refs(row, request),
    }
    return {k: v for k, v in body.items() if v is not None}


def _payments() -> Any:
    return select(payment, payment_method.c.brand, payment_method.c.last4).join(
        payment_method, payment_method.c.id == payment.c.payment_method_id)


def _refunds() -> Any:
    return select(refund, payment.c.payment_method_id, payment_method.c.brand, payment_method.c.last4).join(
        payment, payment.c.id == refund.c.payment_id).join(
        payment_method, payment_method.c.id == payment.c.payment_method_id)


async def _one(query: Any, aggregate: str, ident: str) -> Any:
    async with get_engine().connect() as conn:
        row = (await conn.execute(query)).mappings().one_or_none()
    if row is None:
        raise NotFound(aggregate, ident)
    return row


def _key(header: str | None, correlator: str | None) -> str:
    # Without a client key every POST is a new request; with one, a replay finds the recorded outcome.
    return header or correlator or f"api:{uuid.uuid4().hex}"


@router.post("/payment", scope=Scope.PAYMENT_CHARGE, status_code=201)
async def create_payment(body: PaymentCreate, request: Request,
                         idempotency_key: str | None = Header(default=None, max_length=120)) -> JSONResponse:
    """Charge a customer's card now (manual payment)."""
    unsupported = _unsupported(body, ("channel", "name", "payer"))
    if body.type_ not in (None, "Payment"):
        raise_if([violation("payment.charge.type_known", f"@type '{body.type_}' is not a kind of payment we take",
                            type=body.type_, known=["Payment"])])
    if unsupported:
        raise_if([violation("payment.charge.attribute_unsupported", f"not kept by this system: {', '.join(unsupported)}",
                            attributes=unsupported)])
    raise_if(check_charge_amount(value=body.totalAmount.value, currency=body.totalAmount.unit))
    money = body.totalAmount.to_money()
    customer_id, method_id = body.account.id, body.paymentMethod.id
    key = _key(idempotency_key, body.correlatorId)
    async with get_engine().connect() as conn:
        replay = await payments.payment_by_key(conn, key)
        method = await payments.charge_method(conn, customer_id, method_id)
    if method_id and method is None:
        raise NotFound("payment_method", method_id)
    if replay is None:
        raise_if(check_charge(customer_id=customer_id, method_id=method and method["id"],
                              method_customer_id=method and method["customer_id"],
                              method_state=method and method["state"], amount_minor=money.amount_minor,
                              currency=money.currency))
    reference = body.paymentItem[0].item.id if body.paymentItem else None
    result = await payments.charge(customer_id, money.amount_minor, money.currency, Purpose.MANUAL.value,
                                   reference, key, method_id)
    row = await _one(_payments().where(payment.c.id == result.payment_id), "payment", result.payment_id)
    return tmf_response(payment_to_tmf(row, request), status=201)


@router.get("/payment", scope=Scope.PAYMENT_READ, owner_filter="account.id")
async def list_payments(request: Request) -> JSONResponse:
    """List payments (filters: id, account.id, status, paymentMethod.id, correlatorId, name)."""
    query = parse_list_query(request, PAYMENT_FILTERS)
    where = [PAYMENT_FILTERS[name] == value for name, value in query.filters.items()]
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(payment).where(*where))).scalar_one()
        rows = (await conn.execute(_payments().where(*where).order_by(payment.c.created_at, payment.c.id)
                                   .offset(query.offset).limit(query.limit))).mappings().all()
    return list_response([payment_to_tmf(row, request) for row in rows], total, query)


@router.get("/payment/{payment_id}", scope=Scope.PAYMENT_READ)
async def get_payment(payment_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one payment attempt."""
    row = await _one(_payments().where(payment.c.id == payment_id), "payment", payment_id)
    selected = tuple(f.strip() for f in fields.split(",")) if fields else None
    return tmf_response(select_fields(payment_to_tmf(row, request), selected))


@router.post("/refund", scope=Scope.PAYMENT_REFUND, status_code=201)
async def create_refund(body: RefundCreate, request: Request,
                        idempotency_key: str | None = Header(default=None, max_length=120)) -> JSONResponse:
    """Refund part or all of an approved payment."""
    unsupported = _unsupported(body, ("channel", "name", "requestor"))
    if body.type_ not in (None, "Refund", "refund"):
        raise_if([violation("refund.create.type_known", f"@type '{body.type_}' is not a kind of refund we make",
                            type=body.type_, known=["Refund"])])
    if unsupported:
        raise_if([violation("refund.create.attribute_unsupported", f"not kept by this system: {', '.join(unsupported)}",
                            attributes=unsupported)])
    payment_id = body.payment.id if body.payment else None
    raise_if(check_refund_amount(value=body.totalAmount.value, currency=body.totalAmount.unit,
                                 payment_id=payment_id))
    assert payment_id is not None  # the policy refused a refund without its payment
    money = body.totalAmount.to_money()
    key = _key(idempotency_key, body.correlatorId)
    async with get_engine().connect() as conn:
        paid = await payments.load_payment(conn, payment_id)
        refunded = await payments.refunded_minor(conn, payment_id)
        replay = (await conn.execute(select(refund.c.id).where(refund.c.idempotency_key == key))).first()
    if replay is None:
        raise_if(check_refund(payment_id=payment_id, payment_status=paid["status"],
                              payment_currency=paid["currency"], paid_minor=paid["amount_minor"],
                              refunded_minor=refunded, amount_minor=money.amount_minor, currency=money.currency,
                              account_id=body.account.id if body.account else None,
                              payment_customer_id=paid["customer_id"]))
    result = await payments.refund_in_currency(payment_id, money.amount_minor, money.currency, key,
                                               reason=body.description)
    row = await _one(_refunds().where(refund.c.id == result.refund_id), "refund", result.refund_id)
    return tmf_response(refund_to_tmf(row, request), status=201)


@router.get("/refund", scope=Scope.PAYMENT_READ, owner_filter="account.id")
async def list_refunds(request: Request) -> JSONResponse:
    """List refunds (filters: id, account.id, status, payment.id, correlatorId)."""
    query = parse_list_query(request, REFUND_FILTERS)
    where = [REFUND_FILTERS[name] == value for name, value in query.filters.items()]
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(refund).where(*where))).scalar_one()
        rows = (await conn.execute(_refunds().where(*where).order_by(refund.c.created_at, refund.c.id)
                                   .offset(query.offset).limit(query.limit))).mappings().all()
    return list_response([refund_to_tmf(row, request) for row in rows], total, query)


@router.get("/refund/{refund_id}", scope=Scope.PAYMENT_READ)
async def get_refund(refund_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one refund."""
    row = await _one(_refunds().where(refund.c.id == refund_id), "refund", refund_id)
    selected = tuple(f.strip() for f in fields.split(",")) if fields else None
    return tmf_response(select_fields(refund_to_tmf(row, request), selected))
