"""TMF670 Payment Method Management: `/tmf-api/paymentMethod/v4/paymentMethod` (cards on file).

Requests take the v4 `BankCard` shape (`cardNumber`, `expirationDate`, `nameOnCard`, `cvv` beside
the `PaymentMethod` attributes; a v5-style `details` object is accepted too). The number is
checked, tokenised by the gateway here at the edge and dropped: responses carry `brand`,
`lastFourDigits`, `expirationDate` and a masked `cardNumber`, never the number itself.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select

from activities import payment_method as methods
from apis.routing import BssRouter
from apis.tmf import href, iso, list_response, parse_list_query, select_fields, tmf_response
from core import clock
from core.db import get_engine
from core.errors import MalformedRequest
from core.scopes import Scope
from domain.payment import expiry_end, normalise_card_number, payment_method
from policies.base import raise_if, violation
from policies.payment import check_add_card, check_remove_card, check_unset_preferred
from simulators.payment_gateway import GatewayError, get_gateway

BASE = "/tmf-api/paymentMethod/v4"
METHOD_PATH = f"{BASE}/paymentMethod"
CUSTOMER_PATH = "/tmf-api/customerManagement/v4/customer"
TMF_TYPE = "bankCard"  # the spelling of the spec's PaymentMethod `@type` enum
FILTERS = {"id": payment_method.c.id, "relatedParty.id": payment_method.c.customer_id,
           "status": payment_method.c.state, "isPreferred": payment_method.c.is_default}
_EXPIRY_FORMATS = (
    (re.compile(r"^(\d{1,2})/(\d{2})$"), "m", "y"),          # 12/30
    (re.compile(r"^(\d{1,2})/(\d{4})$"), "m", "y"),          # 12/2030
    (re.compile(r"^(\d{4})-(\d{2})(?:-\d{2}.*)?$"), "y", "m"),  # 2030-12, 2030-12-31, 2030-12-31T23:59:59Z
)

router = BssRouter(prefix=BASE, tags=["TMF670 payment method"])


class RelatedPartyIn(BaseModel):
    """The owner of the card: a reference to a TMF629 customer."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str = Field(min_length=1, max_length=40)
    href: str | None = None
    name: str | None = None
    role: str | None = None
    referredType: Literal["Customer"] = Field(default="Customer", alias="@referredType")
    type_: str | None = Field(default=None, alias="@type")


class CardDetailsIn(BaseModel):
    """The card itself (v5-style `details`, or the v4 `BankCard` attributes inline)."""

    model_config = ConfigDict(extra="forbid")
    cardNumber: str | None = Field(default=None, max_length=40)
    expirationDate: str | None = Field(default=None, max_length=40)
    expMonth: int | None = Field(default=None, ge=1, le=12)
    expYear: int | None = Field(default=None, ge=0, le=2200)
    nameOnCard: str | None = Field(default=None, max_length=120)
    cvv: str | None = Field(default=None, pattern=r"^\d{3,4}$")
    brand: str | None = Field(default=None, max_length=40)  # informative only: the gateway decides
    cardType: str | None = Field(default=None, max_length=40)
    bank: str | None = Field(default=None, max_length=120)


class BankCardCreate(CardDetailsIn):
    """Body of POST /paymentMethod: a `BankCard`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type_: Literal["bankCard", "BankCard"] = Field(alias="@type")
    name: str | None = Field(default=None, min_length=1, max_length=80)
    isPreferred: bool | None = None
    relatedParty: RelatedPartyIn | None = None  # optional in the spec; a card's owner is needed: 422
    details: CardDetailsIn | None = None
    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")

    @model_validator(mode="after")
    def _merge_details(self) -> BankCardCreate:
        if self.details is not None:
            for field, value in self.details.model_dump(exclude_none=True).items():
                if getattr(self, field) is None:
                    setattr(self, field, value)
        return self


class PaymentMethodUpdate(BaseModel):
    """Body of PATCH /paymentMethod/{id} (merge-patch)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str | None = Field(default=None, min_length=1, max_length=80)
    isPreferred: bool | None = None
    type_: Literal["bankCard", "BankCard"] | None = Field(default=None, alias="@type")


def parse_expiry(body: CardDetailsIn) -> tuple[int, int]:
    """Return (month, four-digit year) from expMonth/expYear or `expirationDate`."""
    if body.expMonth is not None and body.expYear is not None:
        month, year = body.expMonth, body.expYear
    elif body.expirationDate:
        for pattern, first, _ in _EXPIRY_FORMATS:
            if match := pattern.match(body.expirationDate.strip()):
                a, b = (int(g) for g in match.groups())
                month, year = (a, b) if first == "m" else (b, a)
                break
        else:
            raise MalformedRequest("request.malformed", "expirationDate must look like MM/YY, YYYY-MM or a date-time",
                                   {"field": "expirationDate"})
    else:
        raise MalformedRequest("request.malformed", "expirationDate (or expMonth and expYear) is required",
                               {"field": "expirationDate"})
    if not 1 <= month <= 12:
        raise MalformedRequest("request.malformed", "the expiry month must be 1–12", {"field": "expirationDate"})
    return month, year + 2000 if year < 100 else year


def to_tmf(row: Any, request: Request) -> dict[str, Any]:
    """Map a card row to a TMF670 `PaymentMethod` of `@type` bankCard."""
    expires = iso(expiry_end(row["exp_month"], row["exp_year"]))
    body = {
        "id": row["id"], "href": href(request, f"{METHOD_PATH}/{row['id']}"), "@type": TMF_TYPE,
        "@baseType": "PaymentMethod", "name": row["name"], "isPreferred": row["is_default"],
        "status": row["state"], "statusDate": iso(row["removed_at"] or row["created_at"]),
        "brand": row["brand"], "lastFourDigits": row["last4"], "cardNumber": f"************{row['last4']}",
        "expirationDate": expires, "nameOnCard": row["holder_name"],
        "validFor": {"startDateTime": iso(row["created_at"]), "endDateTime": expires},
        "relatedParty": {"id": row["customer_id"], "href": href(request, f"{CUSTOMER_PATH}/{row['customer_id']}"),
                         "role": "owner", "@referredType": "Customer"},
    }
    return {k: v for k, v in body.items() if v is not None}


async def _load(method_id: str) -> Any:
    async with get_engine().connect() as conn:
        return await methods.load_method(conn, method_id)


@router.post("/paymentMethod", scope=Scope.PAYMENT_METHOD_WRITE, status_code=201)
async def add_card(body: BankCardCreate, request: Request) -> JSONResponse:
    """Tokenise a bank card and put it on file for a customer."""
    # Both are optional in PaymentMethod_Create, and a card on file needs both: 422, not 400.
    # No owner can be derived: a bound call must name its customer anyway (apis/routing.py).
    customer_id = body.relatedParty.id if body.relatedParty else None
    missing = []
    if customer_id is None:
        missing.append(violation("payment_method.add.requires_customer", "relatedParty names no customer",
                                 field="relatedParty"))
    if not body.cardNumber:
        missing.append(violation("payment_method.add.card_required", "a bankCard needs its cardNumber",
                                 field="cardNumber"))
    raise_if(missing)
    assert customer_id is not None
    number = normalise_card_number(body.cardNumber or "")
    month, year = parse_expiry(body)
    async with get_engine().connect() as conn:
        status = await methods.customer_status(conn, customer_id)
        count = await methods.active_count(conn, customer_id)
    raise_if(check_add_card(customer_id=customer_id, customer_status=status, card_number=number,
                            exp_month=month, exp_year=year, active_count=count, now=clock.now()))
    try:
        card = get_gateway().tokenize(number, month, year, body.cvv)
    except GatewayError as exc:
        raise_if([violation("payment_method.add.gateway_refused", f"the gateway refused the card: {exc}",
                            gateway_code=exc.code)])
    del number  # the number goes no further than the gateway
    row = await methods.add_payment_method(customer_id, card, name=body.name, holder_name=body.nameOnCard,
                                           make_default=bool(body.isPreferred))
    return tmf_response(to_tmf(row, request), status=201)


@router.get("/paymentMethod", scope=Scope.PAYMENT_READ, owner_filter="relatedParty.id")
async def list_cards(request: Request) -> JSONResponse:
    """List cards (filters: id, relatedParty.id, status, isPreferred, any attribute shown; fields; offset/limit)."""
    if any(key.split(".")[0] == "cardNumber" for key in request.query_params):
        # Only the masked number is ever shown; a full one in a URL would reach access logs and proxies.
        raise MalformedRequest("request.malformed", "cards are not looked up by number: filter on id, "
                               "relatedParty.id or lastFourDigits", {"field": "cardNumber"})
    query = parse_list_query(request, FILTERS)
    where = []
    for name, value in query.filters.items():
        if name == "isPreferred":
            if value not in ("true", "false"):
                raise MalformedRequest("request.malformed", "isPreferred must be true or false", {"field": name})
            where.append(FILTERS[name].is_(value == "true"))
        else:
            where.append(FILTERS[name] == value)
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(payment_method).where(*where))).scalar_one()
        rows = (await conn.execute(select(payment_method).where(*where)
                                   .order_by(payment_method.c.created_at, payment_method.c.id)
                                   .offset(query.offset).limit(query.limit))).mappings().all()
    return list_response([to_tmf(row, request) for row in rows], total, query)


@router.get("/paymentMethod/{method_id}", scope=Scope.PAYMENT_READ)
async def get_card(method_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one card on file."""
    selected = tuple(f.strip() for f in fields.split(",")) if fields else None
    return tmf_response(select_fields(to_tmf(await _load(method_id), request), selected))


@router.patch("/paymentMethod/{method_id}", scope=Scope.PAYMENT_METHOD_WRITE)
async def update_card(method_id: str, body: PaymentMethodUpdate, request: Request) -> JSONResponse:
    """Rename a card or make it the preferred (default) one."""
    row = await _load(method_id)  # 404 before anything else
    if body.isPreferred is False:
        raise_if(check_unset_preferred(method_id=method_id, is_default=row["is_default"]))
    row = await methods.update_payment_method(method_id, name=body.name, is_preferred=body.isPreferred)
    return tmf_response(to_tmf(row, request))


@router.delete("/paymentMethod/{method_id}", scope=Scope.PAYMENT_METHOD_WRITE, status_code=204)
async def remove_card(method_id: str) -> Response:
    """Remove a card (status removed); the last card of a customer with a live line stays."""
    row = await _load(method_id)
    async with get_engine().connect() as conn:
        others = await methods.active_count(conn, row["customer_id"], excluding=method_id)
        lines = await methods.live_line_count(conn, row["customer_id"])
    raise_if(check_remove_card(method_id=method_id, state=row["state"], other_active=others, live_lines=lines))
    await methods.remove_payment_method(method_id)
    return Response(status_code=204)
