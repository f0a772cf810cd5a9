"""TMF635 Usage Management at `/tmf-api/usageManagement/v4`: mediation and rating of network usage.

`POST /usage` takes one network event: `usageType` (data | voice | sms), `usageDate` (default:
now) and the characteristics `msisdn`, `quantity` (integer, base units: MB, seconds, count),
`unit` (MB | s | sms; optional, checked against the type), `roaming` (data only) and `eventId`.
The event id is a characteristic because `Usage_Create` has no `id`/`externalId`; it is required.
Answers (`status` is TMF's `UsageStatusType`: `rated` or `rejected`):
* 201 `rated`, with one `BundleRatedProductUsage` (extension of `RatedProductUsage`): the
  bucket, `chargedQuantity`, `balanceAfter` (or `unlimited`) and `lineBlocked`. An event larger
  than what is left is charged what was left (the network cuts the session at zero);
* 422 with the rule code when the event was recorded as `rejected`: unknown number, line not
  active, no roaming or type balance left. Rejected events are kept (mediation's audit trail;
  `context.usage_id` names the record) but never touch a balance;
* 400 malformed, 422 `usage.record.positive_quantity|valid_event_type|unit_matches_type`: nothing written;
* a replayed `eventId` answers the original (200, or the same 422), changing nothing; the same
  id with different content is 409 `usage.record.duplicate_event`; 503 `usage.record.line_busy`
  when the line stayed locked past the lock timeout (resend with the same id).
When an event blocks the line, the line's workflow gets `data_exhausted` after commit — best
effort: the database already says `blocked`; a resend of the event signals again, and the worker's
line reconciler (workers/line_reconciler.py) makes up a signal that was lost.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from temporalio.service import RPCError, RPCStatusCode

from activities.mediation import UsageEvent, load_usage, record_usage
from apis.routing import BssRouter
from apis.tmf import href, iso, list_response, parse_list_query, select_fields, tmf_response
from core.db import get_engine
from core.errors import MalformedRequest, NotFound, PolicyViolation
from core.scopes import Scope
from domain.mediation import USAGE_UNITS, UsageStatus, UsageType, usage_record
from policies.base import raise_if
from policies.usage import check_event, rejection

log = logging.getLogger("bss.api.usage")

BASE = "/tmf-api/usageManagement/v4"
USAGE_PATH = f"{BASE}/usage"
SPEC_PATH = f"{BASE}/usageSpecification"
PRODUCT_PATH = "/tmf-api/productInventory/v4/product"
CUSTOMER_PATH = "/tmf-api/customerManagement/v4/customer"
SPECS = {UsageType.DATA: ("USPEC_DATA", "Mobile data session", "Data volume in MB"),
         UsageType.VOICE: ("USPEC_VOICE", "Mobile voice call", "Call duration in seconds"),
         UsageType.SMS: ("USPEC_SMS", "Mobile SMS", "Messages sent")}
COL = usage_record.c
FILTERS = {"id": COL.id, "status": COL.status, "usageType": COL.usage_type, "relatedParty.id": COL.customer_id,
           "msisdn": COL.msisdn, "subscription.id": COL.subscription_id, "eventId": COL.event_id,
           "ratedProductUsage.productRef.id": COL.subscription_id}
SPEC_CHARACTERISTICS = (("msisdn", "string"), ("quantity", "integer"), ("unit", "string"), ("roaming", "boolean"),
                        ("eventId", "string"))
MSISDN = re.compile(r"^\+?\d{6,15}$")
SIGNAL_TIMEOUT = timedelta(seconds=2)
MAX_QUANTITY = 10**12

router = BssRouter(prefix=BASE, tags=["TMF635 usage"])


class CharacteristicIn(BaseModel):
    """A `UsageCharacteristic` name/value pair."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str = Field(min_length=1, max_length=60)
    value: Any
    valueType: str | None = None
    id: str | None = None
    type_: str | None = Field(default=None, alias="@type")


class PartyRefIn(BaseModel):
    """A `RelatedParty`; accepted for TMF clients, the customer always follows from the number."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str = Field(min_length=1, max_length=60)
    href: str | None = None
    name: str | None = None
    role: str | None = None
    referredType: str | None = Field(default=None, alias="@referredType")
    type_: str | None = Field(default=None, alias="@type")


class UsageCreate(BaseModel):
    """Body of POST /usage (`Usage_Create`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    usageType: str = Field(min_length=1, max_length=40)
    usageDate: AwareDatetime | None = None
    description: str | None = Field(default=None, max_length=200)
    status: str | None = Field(default=None, pattern="^received$")
    usageCharacteristic: list[CharacteristicIn] = Field(min_length=1, max_length=40)
    relatedParty: list[PartyRefIn] | None = Field(default=None, max_length=10)
    type_: str | None = Field(default=None, alias="@type")
    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")


def _malformed(field: str, problem: str) -> MalformedRequest:
    return MalformedRequest("request.malformed", f"usageCharacteristic.{field}: {problem}", {"field": field})


def _characteristics(body: UsageCreate) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in body.usageCharacteristic:
        if item.name in found:
            raise _malformed(item.name, "given twice")
        found[item.name] = item.value
    for name in ("msisdn", "quantity", "eventId"):
        if found.get(name) in (None, ""):
            raise _malformed(name, "is required")
    return found


def _quantity(value: Any) -> int:
    # Base units are whole numbers; a fraction, a bool or an absurd size is a malformed event.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _malformed("quantity", "must be an integer")
    try:
        number = float(value) if isinstance(value, str) else value
        whole = int(number)
    except (ValueError, OverflowError):
        raise _malformed("quantity", "must be an integer") from None
    if number != whole or abs(whole) > MAX_QUANTITY:
        raise _malformed("quantity", f"must be a whole number of base units up to {MAX_QUANTITY}")
    return whole


def _roaming(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _malformed("roaming", "must be true or false")


def _event(body: UsageCreate) -> UsageEvent:
    """Parse and validate the event (400 when malformed, 422 when it breaks a usage rule)."""
    chars = _characteristics(body)
    msisdn, event_id, unit = str(chars["msisdn"]), str(chars["eventId"]), chars.get("unit")
    if not MSISDN.match(msisdn):
        raise _malformed("msisdn", "must be 6 to 15 digits")
    if len(event_id) > 120:
        raise _malformed("eventId", "must be at most 120 characters")
    quantity, roaming = _quantity(chars["quantity"]), _roaming(chars.get("roaming"))
    raise_if(check_event(body.usageType, quantity, None if unit is None else str(unit)))
    return UsageEvent(event_id=event_id, msisdn=msisdn.lstrip("+"), usage_type=UsageType(body.usageType),
                      quantity=quantity, roaming=roaming, event_time=body.usageDate)


def _spec_ref(base: str, usage_type: UsageType) -> dict[str, Any]:
    ident, name, _ = SPECS[usage_type]
    return {"id": ident, "href": f"{base}{SPEC_PATH}/{ident}", "name": name,
            "@referredType": "UsageSpecification"}


def to_tmf(row: Any, request: Request) -> dict[str, Any]:
    """Map a usage record to a TMF635 `Usage` (rating detail in `ratedProductUsage`)."""
    base = str(request.base_url).rstrip("/")  # once per body: this is on the rating hot path
    usage_type = UsageType(row["usage_type"])
    unit = USAGE_UNITS[usage_type]
    chars = [{"name": "msisdn", "value": row["msisdn"]},
             {"name": "quantity", "value": row["quantity"], "valueType": "integer"},
             {"name": "unit", "value": unit},
             {"name": "roaming", "value": row["roaming"], "valueType": "boolean"},
             {"name": "eventId", "value": row["event_id"]}]
    body: dict[str, Any] = {
        "id": row["id"], "href": f"{base}{USAGE_PATH}/{row['id']}", "@type": "Usage",
        "usageType": usage_type.value, "usageDate": iso(row["event_time"]), "status": row["status"],
        "usageSpecification": _spec_ref(base, usage_type), "usageCharacteristic": chars,
    }
    if row["customer_id"]:
        customer = row["customer_id"]
        body["relatedParty"] = [{"id": customer, "href": f"{base}{CUSTOMER_PATH}/{customer}", "role": "customer",
                                 "@referredType": "Customer"}]
    if row["status"] == UsageStatus.REJECTED:
        chars.append({"name": "rejectCode", "value": row["reject_code"]})
        body["description"] = f"rejected: {row['reject_code']}"
        return body
    rated: dict[str, Any] = {
        "@type": "BundleRatedProductUsage", "@baseType": "RatedProductUsage", "isBilled": False,
        "ratingDate": iso(row["received_at"]), "usageRatingTag": "included usage", "offerTariffType": "bundle",
        "productRef": {"id": row["subscription_id"], "href": f"{base}{PRODUCT_PATH}/{row['subscription_id']}",
                       "@referredType": "Product"},
        "bucket": row["rated_allowance"], "chargedQuantity": {"amount": row["charged_quantity"], "units": unit},
        "lineBlocked": row["blocked_line"]}
    if row["balance_after"] is not None and row["balance_after"] < 0:
        rated["unlimited"] = True
    else:
        rated["balanceAfter"] = {"amount": row["balance_after"], "units": unit}
    body["ratedProductUsage"] = [rated]
    body["description"] = f"{row['charged_quantity']} {unit} of {row['rated_allowance']}"
    return body


async def _signal_exhausted(request: Request, row: dict[str, Any]) -> None:
    """Ask the line's workflow to push the network block (best effort, after commit)."""
    workflow_id = f"subscription-{row['subscription_id']}"
    try:
        client = await request.app.state.temporal.client()
        await client.get_workflow_handle(workflow_id).signal(
            "data_exhausted", {"subscription_id": row["subscription_id"], "usage_id": row["id"],
                               "blocked_at": iso(row["received_at"])}, rpc_timeout=SIGNAL_TIMEOUT)
    except RPCError as exc:
        level = logging.INFO if exc.status == RPCStatusCode.NOT_FOUND else logging.WARNING
        log.log(level, "data_exhausted not delivered to %s (%s); the workflow reconciles from the database",
                workflow_id, exc.status.name if exc.status else exc)
    except Exception:  # a committed rating must never turn into a 500 because Temporal is away
        log.warning("data_exhausted not delivered to %s", workflow_id, exc_info=True)


@router.post("/usage", scope=Scope.USAGE_INGEST, status_code=201)
async def create_usage(body: UsageCreate, request: Request) -> JSONResponse:
    """Rate one usage event against the line's bundle (idempotent on `eventId`)."""
    outcome = await record_usage(_event(body))
    row = outcome.record
    if outcome.blocked_line or (outcome.replayed and row["blocked_line"]):
        # A resent event that blocked the line delivers its signal again: the first may have been lost.
        await _signal_exhausted(request, row)
    if row["status"] == UsageStatus.REJECTED:
        raise PolicyViolation(rejection(row["reject_code"], usage_id=row["id"], event_id=row["event_id"],
                                        msisdn=row["msisdn"], subscription_id=row["subscription_id"],
                                        line_blocked=row["blocked_line"]))
    return tmf_response(to_tmf(row, request), status=200 if outcome.replayed else 201)


@router.get("/usage", scope=Scope.USAGE_READ, owner_filter="relatedParty.id")
async def list_usage(request: Request) -> JSONResponse:
    """List usage, newest first (filter on id, status, usageType, relatedParty.id, msisdn, subscription.id…)."""
    query = parse_list_query(request, FILTERS)
    where = [FILTERS[name] == value for name, value in query.filters.items()]
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(usage_record).where(*where))).scalar_one()
        rows = (await conn.execute(select(usage_record).where(*where)
                                   .order_by(COL.received_at.desc(), COL.id.desc())
                                   .offset(query.offset).limit(query.limit))).mappings().all()
    return list_response([to_tmf(row, request) for row in rows], total, query)


@router.get("/usage/{usage_id}", scope=Scope.USAGE_READ)
async def get_usage(usage_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one usage record, rated or rejected."""
    row = await load_usage(usage_id)
    if row is None:
        raise NotFound("usage", usage_id)
    selected = tuple(f.strip() for f in fields.split(",")) if fields else None
    return tmf_response(select_fields(to_tmf(row, request), selected))


def _spec_to_tmf(usage_type: UsageType, request: Request) -> dict[str, Any]:
    ident, name, description = SPECS[usage_type]
    return {"id": ident, "href": href(request, f"{SPEC_PATH}/{ident}"), "@type": "UsageSpecification",
            "name": name, "description": description, "lifecycleStatus": "active", "isBundle": False,
            "specCharacteristic": [{"name": n, "valueType": t, "configurable": False} for n, t in SPEC_CHARACTERISTICS]}


@router.get("/usageSpecification", scope=Scope.CATALOG_READ)
async def list_specifications(request: Request) -> JSONResponse:
    """List the usage specifications (data, voice, SMS)."""
    query = parse_list_query(request, ("id", "name"))
    items = [s for s in (_spec_to_tmf(t, request) for t in UsageType)
             if all(s.get(k) == v for k, v in query.filters.items())]
    return list_response(items[query.offset:query.offset + query.limit], len(items), query)


@router.get("/usageSpecification/{spec_id}", scope=Scope.CATALOG_READ)
async def get_specification(spec_id: str, request: Request) -> JSONResponse:
    """Show one usage specification."""
    usage_type = next((t for t, (ident, *_) in SPECS.items() if ident == spec_id), None)
    if usage_type is None:
        raise NotFound("usage_specification", spec_id)
    return tmf_response(_spec_to_tmf(usage_type, request))
