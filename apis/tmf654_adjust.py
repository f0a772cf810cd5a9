"""TMF654 `adjustBalance`: a care agent's goodwill credit or correction to one bucket of a line.

`bucket.id` names the bucket (`SUB-000001-data`, as in TMF654 buckets) and `amount` how much, signed:
positive credits, negative debits. Units are the bucket's base unit or a multiple (`MB`/`GB` for data,
`s`/`min` for voice, `sms` for SMS; the base unit when `units` is left out); the amount must come to
whole base units (1.5 GB = 1536 MB), and is required although the spec's Quantity leaves it optional.
`usageType`, required by the spec, must be the bucket's. Our rules (policies/balance.py): a `reason`
is required, one adjustment moves at most the configured maximum (`BSS_BALANCE_ADJUST_MAX_*`), a
debit never leaves less than was already used, an unlimited bucket and a line that is not live
are not adjusted, and only `oneTime` adjustments exist (an adjustment lasts the bundle period it was
made in; the renewal starts the next period from the plan). Operators only: customers read their
buckets but never move them (`balance:adjust` is not a customer scope). The `Idempotency-Key` header
makes a retried POST answer with the first adjustment; the same key with another body is a 409.
A data credit that lifts an exhausted line's block unblocks it, and the line's workflow is told after
commit so the network follows (as rating does when it blocks).
Filters: `id`, `bucket.id`, `product.id`, `usageType`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, func, select
from temporalio.service import RPCError

from activities.balance_adjustment import ADJ, Adjust
from activities.balance_adjustment import adjust as adjust_bucket
from apis.routing import BssRouter
from apis.tmf import EntityRef as Ref
from apis.tmf import href, iso, list_response, parse_list_query, ref, select_fields, tmf_response
from apis.tmf637_product import PRODUCT_PATH, any_of, count_and_page, fields_of, where
from apis.tmf654_balance import BUCKET_ID, BUCKET_PATH, USAGE_TYPE
from core.db import get_engine
from core.errors import NotFound
from core.scopes import Scope
from core.settings import get_settings
from domain.balance import ADJUSTMENT_PREFIX, adjustment_id, balance_adjustment
from domain.subscription import ALLOWANCE_UNITS, AllowanceType, subscription
from policies import balance as rules
from policies.base import raise_if, violation

BASE = "/tmf-api/prepayBalanceManagement/v4"
ADJUST_PATH = f"{BASE}/adjustBalance"
CUSTOMER_PATH = "/tmf-api/customerManagement/v4/customer"
SIGNAL_TIMEOUT = timedelta(seconds=2)
# Units an amount may be given in, per base unit, and how many base units each is.
UNITS: dict[str, dict[str, int]] = {"MB": {"MB": 1, "GB": 1024}, "s": {"s": 1, "sec": 1, "min": 60},
                                    "sms": {"sms": 1, "SMS": 1}}
log = logging.getLogger(__name__)

router = BssRouter(prefix=BASE, tags=["TMF654 prepay balance"])


class Quantity(BaseModel):
    """A TMF Quantity: how much, in which unit (both optional in the spec; we need both)."""

    model_config = ConfigDict(extra="allow")
    amount: float | None = Field(default=None, allow_inf_nan=False)
    units: str | None = Field(default=None, max_length=20)


class AdjustBalanceCreate(BaseModel):
    """Body of POST /adjustBalance: the spec's AdjustBalance_Create (the attributes we do not keep are accepted)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    bucket: Ref
    amount: Quantity
    usageType: str = Field(pattern="^(monetary|voice|data|sms|other)$")
    reason: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=500)
    adjustType: str | None = Field(default=None, pattern="^(recurring|oneTime)$")
    # Accepted and not kept: who asks is the caller's actor, the channel its surface, the line the bucket's.
    channel: Ref | None = None
    requestor: dict[str, Any] | None = None
    product: list[Ref] | None = None
    logicalResource: list[dict[str, Any]] | None = None
    validFor: dict[str, Any] | None = None
    type_: str | None = Field(default=None, alias="@type")
    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")


def _bucket(bucket_id: str) -> tuple[str, AllowanceType]:
    match = BUCKET_ID.match(bucket_id)
    if match is None:
        raise NotFound("bucket", bucket_id)
    return match["sub"], AllowanceType(match["allowance"])


def _quantity(allowance: AllowanceType, body: AdjustBalanceCreate) -> tuple[int, str]:
    """(signed quantity in base units, base unit) the body asks for, or 422 with what is wrong."""
    unit = ALLOWANCE_UNITS[allowance]
    found = []
    if body.usageType != USAGE_TYPE[allowance]:
        found.append(violation(rules.USAGE_TYPE_MATCHES, f"bucket {body.bucket.id} is a {USAGE_TYPE[allowance]} "
                                                         f"bucket, not {body.usageType}", usage_type=body.usageType))
    if body.adjustType == "recurring":
        found.append(violation(rules.ONE_TIME_ONLY, "an adjustment lasts its bundle period: adjustType oneTime"))
    per = UNITS[unit].get(body.amount.units or unit)  # no units: the bucket's base unit
    if per is None:
        found.append(violation(rules.UNITS_KNOWN, f"units must be one of {', '.join(UNITS[unit])}",
                               units=body.amount.units))
    if body.amount.amount is None:  # Quantity leaves it optional; how much cannot be guessed
        found.append(violation(rules.AMOUNT_REQUIRED, "say how much to adjust (amount.amount)"))
    if per is None or body.amount.amount is None:
        raise_if(found)
    exact = Decimal(str(body.amount.amount)) * per
    if exact != exact.to_integral_value():
        found.append(violation(rules.WHOLE_BASE_UNITS, f"the amount must come to whole {unit}", amount=str(exact)))
    raise_if(found)
    return int(exact), unit


def _limit(unit: str) -> int:
    settings = get_settings()
    return {"MB": settings.balance_adjust_max_mb, "s": settings.balance_adjust_max_seconds,
            "sms": settings.balance_adjust_max_sms}[unit]


def adjustment_to_tmf(row: Any, request: Request) -> dict[str, Any]:
    """Map an adjustment row (with its line's customer) to a TMF654 `AdjustBalance`."""
    allowance = AllowanceType(row["allowance_type"])
    bucket_id = f"{row['subscription_id']}-{allowance.value}"
    ident = adjustment_id(row["id"])
    customer = ref(request, CUSTOMER_PATH, row["customer_id"], "Customer")
    body: dict[str, Any] = {
        "id": ident, "href": href(request, f"{ADJUST_PATH}/{ident}"), "@type": "AdjustBalance",
        "status": "completed", "adjustType": "oneTime", "usageType": USAGE_TYPE[allowance],
        "amount": {"amount": row["quantity"], "units": ALLOWANCE_UNITS[allowance]},
        "bucket": ref(request, BUCKET_PATH, bucket_id, "Bucket"),
        "product": [ref(request, PRODUCT_PATH, row["subscription_id"], "Product")],
        "partyAccount": {**customer, "@referredType": "BillingAccount"},
        "relatedParty": [customer | {"role": "customer"}],
        "requestor": {"id": row["requested_by"], "name": row["requested_by"], "role": row["channel"],
                      "@referredType": "Operator"},
        "channel": {"id": row["channel"], "name": row["channel"], "@referredType": "Channel"},
        "reason": row["reason"], "requestedDate": iso(row["created_at"]), "confirmationDate": iso(row["created_at"]),
        "validFor": {"startDateTime": iso(row["period_start"])},
    }
    if row["description"]:
        body["description"] = row["description"]
    return body


def _adjustments() -> Any:
    return select(balance_adjustment, subscription.c.customer_id).join(
        subscription, subscription.c.id == balance_adjustment.c.subscription_id)


FILTERS: dict[str, Callable[[str], ColumnElement[bool]]] = {
    "id": lambda v: any_of(func.concat(ADJUSTMENT_PREFIX, ADJ.id), v),
    "bucket.id": lambda v: any_of(func.concat(ADJ.subscription_id, "-", ADJ.allowance_type), v),
    "product.id": lambda v: any_of(ADJ.subscription_id, v),
    "usageType": lambda v: ADJ.allowance_type.in_([a.value for a in AllowanceType if USAGE_TYPE[a] in v.split(",")]),
}


async def _tell_workflow(request: Request, subscription_id: str, change: str) -> None:
    """After commit: the line's workflow reloads it so the network lane follows the block (best effort)."""
    signal = "data_restored" if change == "unblock" else "data_exhausted"
    try:
        client = await request.app.state.temporal.client()
        await client.get_workflow_handle(f"subscription-{subscription_id}").signal(
            signal, {"subscription_id": subscription_id}, rpc_timeout=SIGNAL_TIMEOUT)
    except RPCError as exc:
        log.info("%s not delivered to %s (%s); the workflow reconciles from the database", signal,
                 subscription_id, exc.status.name if exc.status else exc)
    except Exception:  # the adjustment is committed: it must never turn into a 500 because Temporal is away
        log.warning("%s not delivered to %s", signal, subscription_id, exc_info=True)


@router.post("/adjustBalance", scope=Scope.BALANCE_ADJUST, status_code=201)
async def create_adjustment(body: AdjustBalanceCreate, request: Request,
                            idempotency_key: str | None = Header(default=None, alias="Idempotency-Key",
                                                                 max_length=200)) -> JSONResponse:
    """Credit (positive amount) or debit (negative) one bucket of a line, with a reason."""
    subscription_id, allowance = _bucket(body.bucket.id)
    quantity, unit = _quantity(allowance, body)
    raise_if(rules.check_request(body.reason, quantity, unit, _limit(unit)))
    done = await adjust_bucket(Adjust(
        idempotency_key=f"tmf654-adjust:{idempotency_key or uuid.uuid4()}", subscription_id=subscription_id,
        allowance_type=allowance, quantity=quantity, reason=(body.reason or "").strip(),
        description=body.description))
    if done.line_change:
        await _tell_workflow(request, subscription_id, done.line_change)
    row = await _one(ADJ.id == done.row["id"], adjustment_id(done.row["id"]))
    return tmf_response(adjustment_to_tmf(row, request), status=201 if done.created else 200)


async def _one(condition: Any, ident: str) -> Any:
    async with get_engine().connect() as conn:
        row = (await conn.execute(_adjustments().where(condition))).mappings().first()
    if row is None:
        raise NotFound("adjust_balance", ident)
    return row


@router.get("/adjustBalance", scope=Scope.BALANCE_ADJUST)
async def list_adjustments(request: Request) -> JSONResponse:
    """List balance adjustments, newest first (filters: id, bucket.id, product.id, usageType)."""
    query = parse_list_query(request, FILTERS)
    total, rows = await count_and_page(_adjustments(), where(query.filters, FILTERS), (ADJ.id.desc(),),
                                       query.offset, query.limit)
    return list_response([adjustment_to_tmf(row, request) for row in rows], total, query)


@router.get("/adjustBalance/{adjust_id}", scope=Scope.BALANCE_ADJUST)
async def get_adjustment(adjust_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one balance adjustment (`ADJ-<n>`)."""
    number = adjust_id.removeprefix(ADJUSTMENT_PREFIX)
    if not adjust_id.startswith(ADJUSTMENT_PREFIX) or not number.isdigit() or len(number) > 18:
        raise NotFound("adjust_balance", adjust_id)
    row = await _one(ADJ.id == int(number), adjust_id)
    return tmf_response(select_fields(adjustment_to_tmf(row, request), fields_of(fields)))

