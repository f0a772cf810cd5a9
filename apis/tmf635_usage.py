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
The spec leaves every attribute of `Usage_Create` optional: without `usageType` the type is that of the
`usageSpecification` named (a built-in USPEC_DATA|VOICE|SMS or one an operator added with POST
/usageSpecification, which says the type its events are rated as); with neither, 422
`usage.record.usage_type_required`; an unknown specification 422 `usage.record.specification_known`;
a `usageType` other than its specification's 422 `usage.record.usage_type_matches_specification`;
the server-set `status` and `ratedProductUsage` are ignored (mediation and rating decide them);
a missing `msisdn`, `quantity` or `eventId` characteristic 422 `usage.record.characteristic_required`.
When an event blocks the line, the line's workflow gets `data_exhausted` after commit — best
effort: the database already says `blocked`; a resend of the event signals again, and the worker's
line reconciler (workers/line_reconciler.py) makes up a signal that was lost.

`POST /usageSpecification` (catalog admins: the cli and system surfaces) adds a kind of event rated as
one of ours: a `specCharacteristic` named `usageType` with one `characteristicValueSpecification`
value, `data | voice | sms` (else 422 `usage_specification.create.usage_type_required`; no name 422
`name_required`, a taken one `name_unique`). `description` and `version` are kept; the attributes we
do not keep answer 422 `usage_specification.create.attribute_unsupported` naming them.
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

from activities.catalog_usage import BUILT_IN, UsageSpec, add_usage_spec, load_usage_spec, load_usage_specs
from activities.mediation import UsageEvent, load_usage, record_usage
from apis.routing import BssRouter
from apis.tmf import href, iso, list_response, parse_list_query, select_fields, tmf_response
from core.db import get_engine
from core.errors import MalformedRequest, NotFound, PolicyViolation
from core.scopes import Scope
from domain.mediation import USAGE_UNITS, UsageStatus, UsageType, usage_record
from policies.base import raise_if, violation
from policies.usage import USAGE_TYPES, check_event, rejection

log = logging.getLogger("bss.api.usage")

BASE = "/tmf-api/usageManagement/v4"
USAGE_PATH = f"{BASE}/usage"
SPEC_PATH = f"{BASE}/usageSpecification"
PRODUCT_PATH = "/tmf-api/productInventory/v4/product"
CUSTOMER_PATH = "/tmf-api/customerManagement/v4/customer"
USAGE_TYPE = "usageType"  # the characteristic of a usage specification saying how its events are rated
SPEC_UNSUPPORTED = ("attachment", "constraint", "entitySpecRelationship", "relatedParty", "targetEntitySchema",
                    "validFor")
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


class SpecRefIn(BaseModel):
    """A `UsageSpecificationRef`: the specification says the usage type when `usageType` does not."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str = Field(min_length=1, max_length=60)
    href: str | None = None
    name: str | None = None
    referredType: str | None = Field(default=None, alias="@referredType")
    type_: str | None = Field(default=None, alias="@type")
    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")


class UsageCreate(BaseModel):
    """Body of POST /usage (`Usage_Create`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    usageType: str | None = Field(default=None, min_length=1, max_length=40)
    usageSpecification: SpecRefIn | None = None
    usageDate: AwareDatetime | None = None
    description: str | None = Field(default=None, max_length=200)
    status: str | None = None  # server-set (mediation decides rated or rejected): ignored
    ratedProductUsage: list[Any] | None = None  # server-set (rating is ours): ignored
    usageCharacteristic: list[CharacteristicIn] = Field(default_factory=list, max_length=40)
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
    missing = [name for name in ("msisdn", "quantity", "eventId") if found.get(name) in (None, "")]
    if missing:
        raise PolicyViolation(violation("usage.record.characteristic_required",
                                        f"usageCharacteristic must carry {', '.join(missing)}", missing=missing))
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


async def _usage_type(body: UsageCreate) -> str:
    """The event's usage type: its own, else its specification's; the two agree when both are given.

    Only a specification an operator added is read: the built-ins are code (the rating hot path)."""
    if body.usageSpecification is None:
        if body.usageType is None:
            raise PolicyViolation(violation("usage.record.usage_type_required",
                                            "say the usage type: usageType, or a usageSpecification that has one"))
        return body.usageType
    spec_id = body.usageSpecification.id
    spec = await load_usage_spec(spec_id)
    if spec is None:
        raise PolicyViolation(violation("usage.record.specification_known",
                                        f"usage specification '{spec_id}' does not exist",
                                        usage_specification_id=spec_id))
    if body.usageType not in (None, spec.usage_type.value):
        raise PolicyViolation(violation("usage.record.usage_type_matches_specification",
                                        f"usage specification '{spec_id}' is rated as {spec.usage_type.value}, "
                                        f"not {body.usageType}", usage_specification_id=spec_id,
                                        usage_type=body.usageType))
    return spec.usage_type.value


async def _event(body: UsageCreate) -> UsageEvent:
    """Parse and validate the event (400 when malformed, 422 when it breaks a usage rule)."""
    usage_type = await _usage_type(body)
    chars = _characteristics(body)
    msisdn, event_id, unit = str(chars["msisdn"]), str(chars["eventId"]), chars.get("unit")
    if not MSISDN.match(msisdn):
        raise _malformed("msisdn", "must be 6 to 15 digits")
    if len(event_id) > 120:
        raise _malformed("eventId", "must be at most 120 characters")
    quantity, roaming = _quantity(chars["quantity"]), _roaming(chars.get("roaming"))
    raise_if(check_event(usage_type, quantity, None if unit is None else str(unit)))
    return UsageEvent(event_id=event_id, msisdn=msisdn.lstrip("+"), usage_type=UsageType(usage_type),
                      quantity=quantity, roaming=roaming, event_time=body.usageDate)


def _spec_ref(base: str, usage_type: UsageType) -> dict[str, Any]:
    ident, name, _ = BUILT_IN[usage_type]
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
    outcome = await record_usage(await _event(body))
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


def _spec_to_tmf(spec: UsageSpec, request: Request) -> dict[str, Any]:
    body = {"id": spec.id, "href": href(request, f"{SPEC_PATH}/{spec.id}"), "@type": "UsageSpecification",
            "name": spec.name, "description": spec.description, "lifecycleStatus": "active", "isBundle": False,
            "version": spec.version, "lastUpdate": iso(spec.updated_at) if spec.updated_at else None,
            "specCharacteristic": [
                {"name": USAGE_TYPE, "valueType": "string", "configurable": False,
                 "characteristicValueSpecification": [{"valueType": "string", "value": spec.usage_type.value,
                                                       "isDefault": True}]},
                *({"name": n, "valueType": t, "configurable": False} for n, t in SPEC_CHARACTERISTICS)]}
    return {k: v for k, v in body.items() if v is not None}


@router.get("/usageSpecification", scope=Scope.CATALOG_READ)
async def list_specifications(request: Request) -> JSONResponse:
    """List the usage specifications: data, voice, SMS, then those an operator added."""
    query = parse_list_query(request, ("id", "name"))
    items = [s for s in (_spec_to_tmf(spec, request) for spec in await load_usage_specs())
             if all(s.get(k) == v for k, v in query.filters.items())]
    return list_response(items[query.offset:query.offset + query.limit], len(items), query)


@router.get("/usageSpecification/{spec_id}", scope=Scope.CATALOG_READ)
async def get_specification(spec_id: str, request: Request) -> JSONResponse:
    """Show one usage specification."""
    spec = await load_usage_spec(spec_id)
    if spec is None:
        raise NotFound("usage_specification", spec_id)
    return tmf_response(_spec_to_tmf(spec, request))


class CharValueSpecIn(BaseModel):
    """A `CharacteristicValueSpecification`: the `value` of the `usageType` characteristic matters."""

    model_config = ConfigDict(extra="allow")
    value: Any = None


class CharSpecIn(BaseModel):
    """A `CharacteristicSpecification` of a new usage specification."""

    model_config = ConfigDict(extra="allow")
    name: str | None = Field(default=None, max_length=60)
    characteristicValueSpecification: list[CharValueSpecIn] | None = None


class UsageSpecCreate(BaseModel):
    """Body of POST /usageSpecification (`UsageSpecification_Create`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    version: str | None = Field(default=None, max_length=40)
    lifecycleStatus: str | None = None
    isBundle: bool | None = None
    lastUpdate: str | None = None  # server-set: ignored
    specCharacteristic: list[CharSpecIn] = Field(default_factory=list, max_length=20)
    type_: str | None = Field(default=None, alias="@type")
    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")
    attachment: Any = None
    constraint: Any = None
    entitySpecRelationship: Any = None
    relatedParty: Any = None
    targetEntitySchema: Any = None
    validFor: Any = None


def _new_spec(body: UsageSpecCreate) -> tuple[str, UsageType]:
    """(name, usage type) of a new specification, or the 422 saying what is missing."""
    known = {USAGE_TYPE, *(n for n, _ in SPEC_CHARACTERISTICS)}
    unsupported = [n for n in SPEC_UNSUPPORTED if getattr(body, n) is not None]
    unsupported += ["isBundle"] if body.isBundle else []
    unsupported += ["specCharacteristic"] if any(c.name not in known for c in body.specCharacteristic) else []
    if body.lifecycleStatus not in (None, "active", "Active"):
        unsupported.append("lifecycleStatus")
    if body.type_ not in (None, "UsageSpecification"):
        unsupported.append("@type")
    if unsupported:
        raise PolicyViolation(violation(
            "usage_specification.create.attribute_unsupported", f"not kept by this system: {', '.join(unsupported)}",
            attributes=unsupported))
    values = [v.value for c in body.specCharacteristic if c.name == USAGE_TYPE
              for v in c.characteristicValueSpecification or ()]
    found = []
    if body.name is None:
        found.append(violation("usage_specification.create.name_required", "a usage specification needs a name"))
    if len(values) != 1 or not isinstance(values[0], str) or values[0] not in USAGE_TYPES:
        found.append(violation("usage_specification.create.usage_type_required",
                               f"say how its events are rated: a specCharacteristic '{USAGE_TYPE}' with one "
                               f"characteristicValueSpecification value among {', '.join(UsageType)}",
                               values=[str(v) for v in values]))
    raise_if(found)
    assert body.name is not None  # checked just above
    return body.name, UsageType(values[0])


@router.post("/usageSpecification", scope=Scope.CATALOG_ADMIN, status_code=201)
async def create_specification(body: UsageSpecCreate, request: Request) -> JSONResponse:
    """Add a usage specification rated as data, voice or SMS (`add-usage-spec`)."""
    name, usage_type = _new_spec(body)
    ident = await add_usage_spec(name, body.description, usage_type, body.version)
    spec = await load_usage_spec(ident)
    assert spec is not None  # just committed
    return tmf_response(_spec_to_tmf(spec, request), status=201)
