"""TMF639 Resource Inventory: `/tmf-api/resourceInventoryManagement/v4/resource` (MSISDNs and eSIM profiles).

`@type` is `MSISDN` (id and name = the number) or `ESimProfile` (id and name = the ICCID), both
`LogicalResource`s with a `resourceSpecification` of that name. Our exact state travels in
`resourceCharacteristic` (`state`); `resourceStatus` is its TMF mapping (assigned numbers and active
profiles are `reserved` with `usageState: active`, quarantine is `standby`, ported-out and recycled
units are `unknown`). POST adds one number, or one eSIM profile (`name` = ICCID, with `imsi`,
`matchingId`, `kiRef` and optionally `smdpAddress` characteristics); without `@type` the name says
which. PATCH moves a unit by hand (`resourceStatus`, or the `state` characteristic for moves TMF
cannot name, e.g. `ported_out`), never from under a live line, and releases a reservation only once
its order failed or was cancelled. Operator extras live beside it under `/inventory-api/v1`:
`POST /inventory-api/v1/msisdn/range` (replenish, idempotent), `POST /inventory-api/v1/esim/batch` (a
vendor's file at once), `GET /inventory-api/v1/summary`, and `GET /inventory-api/v1/msisdn/available`
(signup scope: the numbers a new customer may pick, nothing else).
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from activities import inventory_pool as pool_ops
from apis.routing import BssRouter
from apis.tmf import href, iso, list_response, parse_list_query, select_fields, tmf_response
from core.db import get_engine
from core.errors import MalformedRequest, NotFound, PolicyViolation
from core.scopes import Scope
from domain import inventory as inv
from domain.inventory import (
    ESIM_MACHINE,
    MSISDN_MACHINE,
    EsimLoad,
    EsimState,
    MsisdnState,
    Pool,
    activation_code,
)
from policies.base import raise_if, violation
from policies.inventory import (
    NUMBER,
    check_esim_transition,
    check_msisdn_transition,
    check_range,
    event_for_target,
)

BASE = "/tmf-api/resourceInventoryManagement/v4"
RESOURCE_PATH = f"{BASE}/resource"
OPS = "/inventory-api/v1"
AVAILABLE_MAX = 20  # numbers one look-up of the signup picker may answer
TYPES = {Pool.MSISDN: "MSISDN", Pool.ESIM: "ESimProfile"}
POOL_OF_TYPE = {name: pool for pool, name in TYPES.items()}
TMF_STATUS = {
    Pool.MSISDN: {"available": "available", "reserved": "reserved", "assigned": "reserved",
                  "quarantine": "standby", "ported_out": "unknown"},
    Pool.ESIM: {"available": "available", "reserved": "reserved", "downloaded": "reserved", "activated": "reserved",
                "suspended": "suspended", "recycled": "unknown"},
}
# PATCH resourceStatus → our state, where the TMF name is unambiguous; the rest go by `state`.
STATUS_TARGET = {Pool.MSISDN: {"available": "available", "reserved": "reserved", "standby": "quarantine"},
                 Pool.ESIM: {"available": "available", "suspended": "suspended"}}
IN_USE = {"assigned", "activated", "suspended"}
LOCKED = {"quarantine", "ported_out", "suspended", "recycled"}
CODE_VISIBLE = {EsimState.RESERVED, EsimState.DOWNLOADED, EsimState.ACTIVATED, EsimState.SUSPENDED}
FILTERS = ("@type", "id", "name", "resourceStatus", "state", "resourceSpecification.id", "resourceSpecification.name")
ICCID = re.compile(r"89[0-9]{17,18}")
# A new profile's characteristics → EsimLoad fields (the names the batch endpoint uses too).
PROFILE_FIELDS = {"imsi": "imsi", "matchingId": "matching_id", "kiRef": "ki_ref", "smdpAddress": "smdp_address"}
FIELD_NAMES = {field: name for name, field in PROFILE_FIELDS.items()}
NOT_KEPT = ("operationalState", "resourceVersion", "startOperatingDate", "endOperatingDate", "activationFeature",
            "attachment", "note", "place", "relatedParty", "resourceRelationship")
BASE_TYPES = {None, "Resource", "LogicalResource"}  # say nothing about the pool: the name decides
ResourceStatus = Literal["standby", "alarm", "available", "reserved", "unknown", "suspended"]

tmf = BssRouter(prefix=BASE, tags=["TMF639 resource inventory"])
ops = BssRouter(prefix=OPS, tags=["inventory operations"])


class CharacteristicIn(BaseModel):
    """A `{name, value}` pair; only `state` can be written."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: Literal["state"]
    value: str = Field(min_length=1, max_length=40)
    valueType: str | None = None
    type_: str | None = Field(default=None, alias="@type")


class NoteIn(BaseModel):
    """Why an operator moved the unit (kept in the audit event)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    text: str = Field(min_length=1, max_length=500)
    author: str | None = Field(default=None, max_length=120)
    date: str | None = None
    type_: str | None = Field(default=None, alias="@type")


class CreateCharacteristic(BaseModel):
    """A `{name, value}` pair of a new unit (the profile's IMSI, matching id, key reference, SM-DP+ address)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str = Field(min_length=1, max_length=40)
    value: Any
    valueType: str | None = None
    type_: str | None = Field(default=None, alias="@type")


class SpecificationRef(BaseModel):
    """A `ResourceSpecificationRef`: its id or name may say which kind of unit is added."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str | None = None
    href: str | None = None
    name: str | None = None
    version: str | None = None
    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")
    type_: str | None = Field(default=None, alias="@type")
    referredType: str | None = Field(default=None, alias="@referredType")


class ResourceCreate(BaseModel):
    """Body of POST /resource: one MSISDN (`name` = the number) or one eSIM profile (`name` = the ICCID).

    `Resource_Create` lists `href` and `id` as required although they are not its properties (a spec bug):
    `href` is ours to set and ignored, an `id` must be the name (a unit's id is its number or ICCID).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str = Field(min_length=1, max_length=64)
    id: str | None = Field(default=None, max_length=64)
    href: str | None = None
    type_: str | None = Field(default=None, alias="@type")
    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")
    category: str | None = Field(default=None, max_length=40)
    description: str | None = Field(default=None, max_length=500)
    resourceSpecification: SpecificationRef | None = None
    resourceStatus: ResourceStatus | None = None
    administrativeState: Literal["locked", "unlocked", "shutdown"] | None = None
    usageState: Literal["idle", "active", "busy"] | None = None
    resourceCharacteristic: list[CreateCharacteristic] | None = Field(default=None, max_length=10)
    # Spec attributes a pool unit does not keep: accepted by the schema, refused with a rule code (not 400).
    operationalState: Literal["enable", "disable"] | None = None
    resourceVersion: str | None = None
    startOperatingDate: str | None = None
    endOperatingDate: str | None = None
    activationFeature: list[dict[str, Any]] | None = None
    attachment: list[dict[str, Any]] | None = None
    note: list[dict[str, Any]] | None = None
    place: dict[str, Any] | None = None  # one RelatedPlaceRefOrValue in TMF639 v4, not a list
    relatedParty: list[dict[str, Any]] | None = None
    resourceRelationship: list[dict[str, Any]] | None = None


class ResourceUpdate(BaseModel):
    """Body of PATCH /resource/{id} (merge-patch): a new `resourceStatus` or `state`, with an optional note."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    resourceStatus: ResourceStatus | None = None
    resourceCharacteristic: list[CharacteristicIn] | None = Field(default=None, max_length=1)
    note: list[NoteIn] | None = Field(default=None, max_length=1)
    type_: Literal["MSISDN", "ESimProfile"] | None = Field(default=None, alias="@type")


class RangeCreate(BaseModel):
    """Body of POST /inventory-api/v1/msisdn/range."""

    model_config = ConfigDict(extra="forbid")
    first: str = Field(min_length=1, max_length=20)
    last: str = Field(min_length=1, max_length=20)


class EsimProfileIn(BaseModel):
    """One profile of an eSIM batch, as the SM-DP+ vendor's file lists it."""

    model_config = ConfigDict(extra="forbid")
    iccid: str = Field(pattern=r"^89[0-9]{17,18}$")
    imsi: str = Field(pattern=r"^[0-9]{15}$")
    matchingId: str = Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    kiRef: str = Field(min_length=1, max_length=120)
    smdpAddress: str | None = Field(default=None, min_length=3, max_length=255)


class EsimBatchCreate(BaseModel):
    """Body of POST /inventory-api/v1/esim/batch: up to 10,000 profiles, added in one transaction."""

    model_config = ConfigDict(extra="forbid")
    profiles: list[EsimProfileIn] = Field(min_length=1, max_length=10_000)


def _char(name: str, value: Any) -> dict[str, Any]:
    return {"name": name, "value": value, "valueType": "string"}


def _common(pool: Pool, ident: str, state: str, created_at: Any, request: Request) -> dict[str, Any]:
    return {"id": ident, "href": href(request, f"{RESOURCE_PATH}/{ident}"), "@type": TYPES[pool],
            "@baseType": "LogicalResource", "name": ident, "category": TYPES[pool],
            "resourceSpecification": {"id": TYPES[pool], "name": TYPES[pool], "version": "1.0",
                                      "@referredType": "ResourceSpecification"},
            "resourceStatus": TMF_STATUS[pool][state], "usageState": "active" if state in IN_USE else "idle",
            "administrativeState": "locked" if state in LOCKED else "unlocked",
            "startOperatingDate": iso(created_at)}


def msisdn_to_tmf(row: Any, request: Request) -> dict[str, Any]:
    """Map a number to a TMF639 `Resource` of `@type` MSISDN."""
    chars = [_char("state", row["state"])]
    for name, column in (("reservedFor", "reserved_for"), ("assignedTo", "assigned_to"), ("rangeId", "range_id")):
        if row[column]:
            chars.append(_char(name, row[column]))
    if row["quarantine_until"]:
        chars.append(_char("quarantineUntil", iso(row["quarantine_until"])))
    return {**_common(Pool.MSISDN, row["number"], row["state"], row["created_at"], request),
            "resourceCharacteristic": chars}


def esim_to_tmf(row: Any, request: Request) -> dict[str, Any]:
    """Map a profile to a TMF639 `Resource` of `@type` ESimProfile (activation code once it is reserved)."""
    chars = [_char("state", row["state"]), _char("iccid", row["iccid"]), _char("imsi", row["imsi"]),
             _char("smdpAddress", row["smdp_address"])]
    if row["state"] in CODE_VISIBLE:  # the matching id is the download secret: only for a holder
        chars += [_char("matchingId", row["matching_id"]),
                  _char("activationCode", activation_code(row["smdp_address"], row["matching_id"]))]
    if row["reserved_for"]:
        chars.append(_char("reservedFor", row["reserved_for"]))
    body = {**_common(Pool.ESIM, row["iccid"], row["state"], row["created_at"], request),
            "resourceCharacteristic": chars}
    if row["assigned_msisdn"]:
        chars.append(_char("assignedMsisdn", row["assigned_msisdn"]))
        body["resourceRelationship"] = [{"relationshipType": "isAssignedTo", "resource": {
            "id": row["assigned_msisdn"], "href": href(request, f"{RESOURCE_PATH}/{row['assigned_msisdn']}"),
            "@type": "MSISDN", "@referredType": "MSISDN"}}]
    return body


def _table(pool: Pool) -> tuple[Table, Any]:
    return (inv.msisdn, inv.msisdn.c.number) if pool is Pool.MSISDN else (inv.esim_profile, inv.esim_profile.c.iccid)


def _to_tmf(pool: Pool, row: Any, request: Request) -> dict[str, Any]:
    return msisdn_to_tmf(row, request) if pool is Pool.MSISDN else esim_to_tmf(row, request)


def _states(pool: Pool) -> set[str]:
    return {s.value for s in (MsisdnState if pool is Pool.MSISDN else EsimState)}


def _where(pool: Pool, filters: dict[str, str]) -> list[Any] | None:
    """SQL conditions for one pool, or None when the filters exclude it entirely."""
    table, key = _table(pool)
    where: list[Any] = []
    if "@type" in filters and POOL_OF_TYPE[filters["@type"]] is not pool:
        return None
    # The specification is the pool's own: an unknown one matches nothing (no 400, it is not our @type).
    if any(filters.get(f"resourceSpecification.{k}", TYPES[pool]) != TYPES[pool] for k in ("id", "name")):
        return None
    for name in ("id", "name"):
        if name in filters:
            where.append(key == filters[name])
    if "state" in filters:
        if filters["state"] not in _states(pool):
            return None
        where.append(table.c.state == filters["state"])
    if "resourceStatus" in filters:
        states = [s for s, status in TMF_STATUS[pool].items() if status == filters["resourceStatus"]]
        if not states:
            return None
        where.append(table.c.state.in_(states))  # served by ix_*_state
    return where


def _check_filters(filters: dict[str, str]) -> None:
    if filters.get("@type", "MSISDN") not in POOL_OF_TYPE:
        raise MalformedRequest("request.malformed", "@type must be MSISDN or ESimProfile", {"field": "@type"})
    pools = [POOL_OF_TYPE[filters["@type"]]] if "@type" in filters else list(Pool)
    if "state" in filters and not any(filters["state"] in _states(p) for p in pools):
        raise MalformedRequest("request.malformed", f"unknown state '{filters['state']}'", {"field": "state"})
    statuses = set(ResourceStatus.__args__)  # type: ignore[attr-defined]
    if "resourceStatus" in filters and filters["resourceStatus"] not in statuses:
        raise MalformedRequest("request.malformed", f"resourceStatus must be one of {sorted(statuses)}",
                               {"field": "resourceStatus"})


@tmf.get("/resource", scope=Scope.INVENTORY_READ)
async def list_resources(request: Request) -> JSONResponse:
    """List numbers then profiles (filters: @type, id, name, resourceStatus, state, resourceSpecification.id|name;
    fields; offset/limit; any other TMF630 filter on the rendered bodies)."""
    query = parse_list_query(request, FILTERS)
    _check_filters(query.filters)
    items: list[dict[str, Any]] = []
    total, offset = 0, query.offset
    async with get_engine().connect() as conn:
        for pool in Pool:
            where = _where(pool, query.filters)
            if where is None:
                continue
            table, key = _table(pool)
            count = (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
            if offset < count and len(items) < query.limit:
                rows = await conn.execute(select(table).where(*where).order_by(key).offset(offset)
                                          .limit(query.limit - len(items)))
                items += [_to_tmf(pool, row, request) for row in rows.mappings()]
            offset, total = max(0, offset - count), total + count
    return list_response(items, total, query)


async def _find(conn: AsyncConnection, ident: str) -> tuple[Pool, Any]:
    for pool in Pool:
        table, key = _table(pool)
        row = (await conn.execute(select(table).where(key == ident))).mappings().first()
        if row is not None:
            return pool, row
    raise NotFound("resource", ident)


@tmf.get("/resource/{resource_id}", scope=Scope.INVENTORY_READ)
async def get_resource(resource_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one number (by MSISDN) or profile (by ICCID)."""
    async with get_engine().connect() as conn:
        pool, row = await _find(conn, resource_id)
    selected = tuple(f.strip() for f in fields.split(",")) if fields else None
    return tmf_response(select_fields(_to_tmf(pool, row, request), selected))


def _pool_of_new(body: ResourceCreate) -> Pool:
    """Which pool a POST adds to: its `@type`, else its specification, else what its name looks like."""
    named = body.type_ if body.type_ not in BASE_TYPES else None
    if named is None and body.resourceSpecification is not None:
        spec = body.resourceSpecification
        named = next((n for n in (spec.name, spec.id) if n in POOL_OF_TYPE), None)
    if named is not None:
        if named not in POOL_OF_TYPE:
            raise PolicyViolation(violation(
                "inventory.resource.type_known", f"@type '{named}' is not a unit we keep: MSISDN or ESimProfile",
                type=named, allowed=sorted(POOL_OF_TYPE)))
        return POOL_OF_TYPE[named]
    if NUMBER.fullmatch(body.name):
        return Pool.MSISDN
    if ICCID.fullmatch(body.name):
        return Pool.ESIM
    raise PolicyViolation(violation(
        "inventory.resource.name_invalid", "name must be a phone number (8 to 15 digits, @type MSISDN) or an"
        " eSIM profile's ICCID (89 and 17 to 18 digits, @type ESimProfile)", name=body.name))


def _check_new(body: ResourceCreate, pool: Pool) -> None:
    """What a new unit of any pool must be: its id is its name, it enters the pool available, a number
    takes no characteristics."""
    if body.id is not None and body.id != body.name:
        raise PolicyViolation(violation("inventory.resource.id_not_name", f"id '{body.id}' differs from name"
                                        f" '{body.name}'; a unit's id is its number or ICCID",
                                        id=body.id, name=body.name))
    chars = body.resourceCharacteristic or []
    state = next((c.value for c in chars if c.name == "state"), "available")
    if (body.resourceStatus not in (None, "available") or state != "available"
            or body.administrativeState not in (None, "unlocked") or body.usageState not in (None, "idle")):
        raise PolicyViolation(violation("inventory.resource.created_available", "a new unit enters the pool"
                                        " available (unlocked, idle); move it afterwards",
                                        resourceStatus=body.resourceStatus, state=state,
                                        administrativeState=body.administrativeState, usageState=body.usageState))
    unkept = sorted(name for name in NOT_KEPT if getattr(body, name) is not None)
    if unkept:
        raise PolicyViolation(violation("inventory.resource.attribute_not_kept", f"a pool unit keeps no"
                                        f" {', '.join(unkept)}; send the unit without them", attributes=unkept))
    if pool is Pool.MSISDN and any(c.name != "state" for c in chars):
        raise PolicyViolation(violation("inventory.resource.characteristic_unknown", "a new number takes no"
                                        " characteristics but `state: available`",
                                        names=sorted(c.name for c in chars)))


def _new_profile(body: ResourceCreate) -> EsimLoad:
    """The profile a POST describes: ICCID = name, the rest from characteristics (422 when missing or wrong)."""
    given = {c.name: c.value for c in body.resourceCharacteristic or [] if c.name != "state"}
    unknown = sorted(set(given) - set(PROFILE_FIELDS) - {"iccid"})
    missing = sorted(set(PROFILE_FIELDS) - set(given) - {"smdpAddress"})
    if unknown or missing:
        raise PolicyViolation(violation("inventory.esim.profile_incomplete", "an eSIM profile needs the"
                                        " characteristics imsi, matchingId and kiRef (smdpAddress optional),"
                                        " and no others", missing=missing, unknown=unknown))
    fields = ["iccid"] if given.get("iccid", body.name) != body.name else []
    if not fields:
        try:
            return EsimLoad(iccid=body.name, **{PROFILE_FIELDS[k]: v for k, v in given.items() if k != "iccid"})
        except ValidationError as bad:
            fields = sorted({FIELD_NAMES.get(str(e["loc"][0]), str(e["loc"][0])) for e in bad.errors()})
    raise PolicyViolation(violation("inventory.esim.profile_invalid", f"eSIM profile {body.name}: malformed"
                                    f" {', '.join(fields)} (ICCID = the name, 89 and 17 to 18 digits; IMSI 15"
                                    " digits; matching id 4 to 64 letters, digits or '-')",
                                    iccid=body.name, fields=fields))


@tmf.post("/resource", scope=Scope.INVENTORY_WRITE, status_code=201)
async def add_resource(body: ResourceCreate, request: Request) -> JSONResponse:
    """Add one MSISDN or one eSIM profile to its pool, available."""
    pool = _pool_of_new(body)
    _check_new(body, pool)
    if pool is Pool.MSISDN:
        return tmf_response(msisdn_to_tmf(await pool_ops.add_msisdn(body.name), request), status=201)
    return tmf_response(esim_to_tmf(await pool_ops.add_esim(_new_profile(body)), request), status=201)


@tmf.patch("/resource/{resource_id}", scope=Scope.INVENTORY_WRITE)
async def update_resource(resource_id: str, body: ResourceUpdate, request: Request) -> JSONResponse:
    """Move a unit by hand: quarantine, recycle or port out a number; suspend, resume or recycle a profile."""
    async with get_engine().connect() as conn:
        pool, row = await _find(conn, resource_id)
    if body.type_ is not None and POOL_OF_TYPE[body.type_] is not pool:
        raise MalformedRequest("request.malformed", f"{resource_id} is a {TYPES[pool]}", {"field": "@type"})
    target = body.resourceCharacteristic[0].value if body.resourceCharacteristic else None
    if body.resourceStatus is not None:
        by_status = STATUS_TARGET[pool].get(body.resourceStatus, f"resourceStatus:{body.resourceStatus}")
        if target is not None and target != by_status:
            raise MalformedRequest("request.malformed", "resourceStatus and the state characteristic disagree",
                                   {"field": "resourceStatus"})
        target = by_status
    if target is None or target == row["state"]:
        return tmf_response(_to_tmf(pool, row, request))
    machine, check = (MSISDN_MACHINE, check_msisdn_transition) if pool is Pool.MSISDN else (
        ESIM_MACHINE, check_esim_transition)
    event = event_for_target(machine, row["state"], target) or f"to_{target}"
    raise_if(check(resource_id, row["state"], event, operator=True))  # fast 422; the activity decides under lock
    note = body.note[0].text if body.note else None
    return tmf_response(_to_tmf(pool, await pool_ops.change_state(pool, resource_id, target, note), request))


@ops.post("/msisdn/range", scope=Scope.INVENTORY_WRITE)
async def add_range(body: RangeCreate) -> JSONResponse:
    """Replenish the number pool with FIRST..LAST (201 when added, 200 for a repeat of the same range)."""
    raise_if(check_range(body.first, body.last))
    result = await pool_ops.add_msisdn_range(body.first, body.last)
    return tmf_response({"rangeId": result.range_id, "first": result.first, "last": result.last, "size": result.size,
                         "added": result.added, "skipped": result.skipped, "repeated": result.repeated},
                        status=200 if result.repeated else 201)


@ops.post("/esim/batch", scope=Scope.INVENTORY_WRITE, status_code=201)
async def add_esim_batch(body: EsimBatchCreate) -> JSONResponse:
    """Add a vendor's batch of eSIM profiles to the pool, available (profiles already known are skipped)."""
    result = await pool_ops.add_esim_batch([EsimLoad(
        iccid=p.iccid, imsi=p.imsi, matching_id=p.matchingId, ki_ref=p.kiRef,
        **({"smdp_address": p.smdpAddress} if p.smdpAddress else {})) for p in body.profiles])
    return tmf_response({"size": result.size, "added": result.added, "skipped": result.skipped}, status=201)


@ops.get("/msisdn/available", scope=Scope.SIGNUP)
async def available_numbers(contains: Annotated[str | None, Query(pattern=r"^[0-9]{1,15}$")] = None,
                            limit: Annotated[int, Query(ge=1, le=AVAILABLE_MAX)] = 6) -> JSONResponse:
    """Numbers a new customer may pick: only available ones, only the number (the signup number picker).

    Scoped to signup, not to inventory reads: a visitor sees no holder, range or state of anything.
    Without `contains` the numbers start at a random place in the pool, so visitors signing up at the
    same time are not all offered (and racing for) the same first numbers.
    """
    where = [inv.msisdn.c.state == MsisdnState.AVAILABLE.value]
    if contains:
        where.append(inv.msisdn.c.number.contains(contains, autoescape=True))
    async with get_engine().connect() as conn:
        start = 0
        if not contains:
            count = (await conn.execute(select(func.count()).select_from(inv.msisdn).where(*where))).scalar_one()
            start = secrets.randbelow(max(count - limit, 0) + 1)
        rows = await conn.execute(select(inv.msisdn.c.number).where(*where).order_by(inv.msisdn.c.number)
                                  .offset(start).limit(limit))
        numbers = [row.number for row in rows]
    return tmf_response([{"msisdn": number} for number in numbers])


@ops.get("/summary", scope=Scope.INVENTORY_READ)
async def pool_summary() -> JSONResponse:
    """Count each pool by state, with its low-watermark threshold and whether it is low now."""
    out: dict[str, Any] = {}
    async with get_engine().connect() as conn:
        marks = {r.pool: r for r in await conn.execute(select(inv.pool_watermark))}
        for pool in Pool:
            table, _ = _table(pool)
            counts = dict((await conn.execute(select(table.c.state, func.count()).group_by(table.c.state))).all())
            by_state = {state: counts.get(state, 0) for state in sorted(_states(pool))}
            mark = marks.get(pool.value)
            threshold = mark.threshold if mark else inv.DEFAULT_LOW_WATERMARK
            out[pool.value] = {"total": sum(by_state.values()), "byState": by_state, "lowWatermark": threshold,
                               "low": by_state["available"] < threshold}
    return tmf_response(out)


router = BssRouter()
router.include_router(tmf)
router.include_router(ops)
