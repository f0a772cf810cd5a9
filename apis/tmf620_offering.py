"""TMF620 `productOffering`: plans and VAS (GET list/item, POST `add-offering`, PATCH `window`, DELETE `retire`).

An offering carries its `productSpecification`, `category` (PLANS or VAS: the kind), every
`productOfferingPrice` version as a ref, and its allowances as `prodSpecCharValueUse`: one per
allowance type, `name` = `data | voice | sms | data_roaming`, the quantity in base units as the
value (`unitOfMeasure` MB, s or sms; -1 = unlimited) and a readable `description` ("30 GB").
`productOfferingTerm` says how long it lasts: `renewalPeriod` (plans, 30 days), `endOfPeriod`
or `duration` (VAS, seconds). Two extensions answer "what does it cost now": `sellableNow`
(active, in its window, priced — at the server's clock) and `activePrice` (the lowest price in
force, in minor units). Filter plans or VAS with `?category.id=PLANS|VAS` (or `category.name`).

A create without `category` (the spec's minimal body is a name) takes its kind from the
`productSpecification` it names (SPEC_ALLOWANCE_ADDON: a VAS), else it is a plan, which must then
declare its allowances (422 `catalog.offering.allowances_valid` says which are missing).
Of the spec's other optional attributes, `lastUpdate`, `@baseType` and `@schemaLocation` are ignored;
those we do not keep (agreement, attachment, bundles, channel, market segment, place, price refs —
prices are POST /productOfferingPrice —, relationships, candidates, SLA, statusReason, version, a term
we do not understand, another `@type` or lifecycle) answer 422 `catalog.offering.attribute_unsupported`.
DELETE retires: an offering never vanishes, its lines keep it and it stays readable; it just
cannot be sold again (204; again on a retired one, nothing changes; an in-design one is 422
`product_offering.transition.invalid`: it was never on sale).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from activities import catalog_admin as admin
from activities.catalog import price_version, view
from apis.catalog_cache import CachedAnswer, CatalogCache, catalog_changed
from apis.routing import BssRouter
from apis.tmf import (
    COUNT_HEADERS,
    JSON_TYPE,
    iso,
    list_response,
    parse_list_query,
    select_fields,
    tmf_response,
)
from apis.tmf620_catalog import (
    BASE,
    CATEGORY_PATH,
    OFFERING_PATH,
    PRICE_PATH,
    SPEC_PATH,
    RefIn,
    TimePeriodIn,
    human_quantity,
    item_fields,
    lifecycle_wire,
    parse_lifecycle,
    valid_for,
    with_mandatory,
)
from apis.tmf620_price import PRICE_TYPE_WIRE
from core import clock
from core.db import raw_connection
from core.errors import MalformedRequest, NotFound, PolicyViolation
from core.scopes import Scope
from domain.catalog import (
    KIND_CATEGORY,
    KIND_SPECIFICATION,
    PERIOD_DAYS,
    Allowance,
    AllowanceType,
    LifecycleStatus,
    OfferingKind,
    VasExpiry,
)
from policies import catalog as rules
from policies.base import violation

TERM_NAMES = ("endOfPeriod", "duration", "renewalPeriod")
OFFERING_UNSUPPORTED = ("statusReason", "version", "agreement", "attachment", "bundledProductOffering", "channel",
                        "marketSegment", "place", "productOfferingPrice", "productOfferingRelationship",
                        "resourceCandidate", "serviceCandidate", "serviceLevelAgreement")
UNIT_SECONDS = {"s": 1, "second": 1, "seconds": 1, "minute": 60, "minutes": 60, "h": 3600, "hour": 3600,
                "hours": 3600, "day": 86400, "days": 86400}
TYPE_ORDER = list(AllowanceType)

router = BssRouter(prefix=BASE, tags=["TMF620 product catalog"])


class CharValueIn(BaseModel):
    """One allowance value: base-unit quantity (-1 = unlimited) and its unit."""

    model_config = ConfigDict(extra="forbid")
    value: StrictInt
    unitOfMeasure: str = Field(min_length=1, max_length=10)
    valueType: Literal["integer"] | None = None
    isDefault: bool | None = None


class CharValueUseIn(BaseModel):
    """One allowance of the offering (`name` is the allowance type)."""

    model_config = ConfigDict(extra="forbid")
    name: AllowanceType
    description: str | None = Field(default=None, max_length=200)
    valueType: Literal["integer"] | None = None
    minCardinality: int | None = None
    maxCardinality: int | None = None
    productSpecification: RefIn | None = None
    productSpecCharacteristicValue: list[CharValueIn] = Field(min_length=1, max_length=1)


class QuantityIn(BaseModel):
    """A TMF `Quantity` of time."""

    model_config = ConfigDict(extra="forbid")
    amount: int = Field(gt=0)
    units: Literal[tuple(UNIT_SECONDS)]  # type: ignore[valid-type]


class TermIn(BaseModel):
    """How long a VAS lasts (`endOfPeriod`, `duration`); `renewalPeriod` restates a plan's 30 days."""

    model_config = ConfigDict(extra="allow")  # the spec's other term attributes: refused with a 422, below
    name: str | None = None
    description: str | None = Field(default=None, max_length=200)
    duration: QuantityIn | None = None

    def understood(self) -> bool:
        """A term we act on: one of our three names, nothing but a description and a duration besides."""
        return self.name in TERM_NAMES and not self.model_extra

    def seconds(self) -> int | None:
        """The duration in seconds, if any."""
        return self.duration.amount * UNIT_SECONDS[self.duration.units] if self.duration else None


class OfferingCreate(BaseModel):
    """Body of POST /productOffering (`id` optional: derived from kind and name when absent)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]{2,39}$")  # the full rule is catalog.offering.id_valid
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    isBundle: bool | None = None
    isSellable: bool = True
    lifecycleStatus: str = "Active"
    validFor: TimePeriodIn | None = None
    category: list[RefIn] | None = Field(default=None, min_length=1, max_length=5)
    productSpecification: RefIn | None = None
    prodSpecCharValueUse: list[CharValueUseIn] = Field(default_factory=list, max_length=4)
    productOfferingTerm: list[TermIn] = Field(default_factory=list, max_length=1)
    lastUpdate: str | None = None  # server-set: ignored
    type_: str | None = Field(default=None, alias="@type")
    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")
    statusReason: Any = None
    version: Any = None
    agreement: Any = None
    attachment: Any = None
    bundledProductOffering: Any = None
    channel: Any = None
    marketSegment: Any = None
    place: Any = None
    productOfferingPrice: Any = None
    productOfferingRelationship: Any = None
    resourceCandidate: Any = None
    serviceCandidate: Any = None
    serviceLevelAgreement: Any = None

    def refuse_unsupported(self) -> None:
        """422 `catalog.offering.attribute_unsupported` naming the spec's attributes we do not keep."""
        found = [name for name in OFFERING_UNSUPPORTED if getattr(self, name) is not None]
        found += ["isBundle"] if self.isBundle else []
        found += ["@type"] if self.type_ not in (None, "ProductOffering") else []
        if parse_lifecycle(self.lifecycleStatus) not in (LifecycleStatus.IN_DESIGN, LifecycleStatus.ACTIVE):
            found.append("lifecycleStatus")
        found += ["productOfferingTerm"] if any(not t.understood() for t in self.productOfferingTerm) else []
        if found:
            raise PolicyViolation(violation(
                "catalog.offering.attribute_unsupported", f"not kept by this system: {', '.join(found)} (prices are "
                "added with POST /productOfferingPrice)", attributes=found))


class OfferingUpdate(BaseModel):
    """Body of PATCH /productOffering/{id}: name, description, sellable flag, window, lifecycle."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    isSellable: bool | None = None
    lifecycleStatus: Literal["In design", "Active", "Retired"] | None = None
    validFor: TimePeriodIn | None = None
    type_: Literal["ProductOffering"] | None = Field(default=None, alias="@type")


def _term(row: Any) -> dict[str, Any]:
    if row["kind"] == OfferingKind.PLAN:
        return {"name": "renewalPeriod", "description": f"Renews every {PERIOD_DAYS} days",
                "duration": {"amount": PERIOD_DAYS, "units": "day"}}
    if row["vas_expiry"] == VasExpiry.END_OF_PERIOD:
        return {"name": "endOfPeriod", "description": "Lasts until the end of the current plan period"}
    seconds = row["vas_duration_seconds"]
    span = f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds} s"
    return {"name": "duration", "description": f"Lasts {span} from purchase",
            "duration": {"amount": seconds, "units": "s"}}


def _allowance(a: tuple[str, int, str], spec_ref: dict[str, Any]) -> dict[str, Any]:
    allowance_type, quantity, unit = a
    return {"name": allowance_type, "description": human_quantity(quantity, unit),
            "valueType": "integer", "minCardinality": 1, "maxCardinality": 1, "productSpecification": spec_ref,
            "productSpecCharacteristicValue": [{"isDefault": True, "valueType": "integer", "value": quantity,
                                                "unitOfMeasure": unit}]}


# One round trip per page: the offerings with their specification name, categories, allowances and
# price versions (arrays of rows), and the count of every match (taken before OFFSET/LIMIT).
_OFFERINGS = """
SELECT o.*, count(*) OVER () AS total_count, s.name AS spec_name,
       ARRAY(SELECT ROW(c.id, c.name) FROM catalog.offering_category oc
               JOIN catalog.category c ON c.id = oc.category_id
              WHERE oc.offering_id = o.id ORDER BY c.id) AS categories,
       ARRAY(SELECT ROW(a.allowance_type, a.quantity, a.unit) FROM catalog.bundle_allowance a
              WHERE a.offering_id = o.id) AS allowances,
       ARRAY(SELECT ROW({price_columns}) FROM catalog.product_offering_price p
              WHERE p.offering_id = o.id ORDER BY p.valid_from, p.id) AS prices
  FROM catalog.product_offering o
  LEFT JOIN catalog.product_specification s ON s.id = o.specification_id
 WHERE {where}
 ORDER BY o.kind, o.id
OFFSET {offset} LIMIT {limit}
"""
PRICE_COLUMNS = ("id", "offering_id", "name", "price_minor", "currency", "price_type", "recurring_period_days",
                 "valid_from", "valid_to")
_PRICE_FROM, _PRICE_TO = PRICE_COLUMNS.index("valid_from"), PRICE_COLUMNS.index("valid_to")
_COUNT = "SELECT count(*) FROM catalog.product_offering o WHERE {where}"
# Filter name -> SQL condition on `o` with one parameter (`{}` is its placeholder).
_IN_CATEGORY = ("o.id IN (SELECT oc.offering_id FROM catalog.offering_category oc"
                " JOIN catalog.category c ON c.id = oc.category_id WHERE c.{column} = {{}})")
FILTERS = {"id": "o.id = {}", "name": "o.name = {}", "productSpecification.id": "o.specification_id = {}",
           "lifecycleStatus": "o.lifecycle_status = {}", "isSellable": "o.is_sellable = {}",
           "category.id": _IN_CATEGORY.format(column="id"), "category.name": _IN_CATEGORY.format(column="name")}


def _filter_value(name: str, value: str) -> Any:
    """The parameter a filter compares with (None: the filter matches nothing)."""
    if name == "isSellable":
        if value not in ("true", "false"):
            raise MalformedRequest("request.malformed", "isSellable must be true or false", {"field": "isSellable"})
        return value == "true"
    if name == "lifecycleStatus":
        state = parse_lifecycle(value)
        return state.value if state else None
    return value


def _where(filters: dict[str, str]) -> tuple[str, list[Any]]:
    clauses, params = ["true"], []
    for name, raw in filters.items():
        value = _filter_value(name, raw)
        if value is None:
            clauses.append("false")
            continue
        params.append(value)
        clauses.append(FILTERS[name].format(f"${len(params)}"))
    return " AND ".join(clauses), params


async def load_offerings(filters: dict[str, str], offset: int = 0, limit: int = 1) -> tuple[list[Any], int]:
    """The offerings matching equality `filters` (plans first, then by id), one page, and how many match."""
    where, params = _where(filters)
    sql = _OFFERINGS.format(price_columns=", ".join(f"p.{c}" for c in PRICE_COLUMNS), where=where,
                            offset=f"${len(params) + 1}", limit=f"${len(params) + 2}")
    async with raw_connection() as conn:
        rows = await conn.fetch(sql, *params, offset, limit)
        if rows:
            return rows, rows[0]["total_count"]
        # An empty page says nothing about the count; only then is it a second query.
        total = await conn.fetchval(_COUNT.format(where=where), *params) if offset else 0
    return [], total


def _to_tmf(row: Any, request: Request, now: dt.datetime) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")  # once per body, not per reference: this is a hot list
    spec_ref = {"id": row["specification_id"], "href": f"{base}{SPEC_PATH}/{row['specification_id']}",
                "@referredType": "ProductSpecification", "name": row["spec_name"]}
    prices = [dict(zip(PRICE_COLUMNS, p, strict=True)) for p in row["prices"]]
    versions = [price_version(p) for p in prices]
    winner = rules.winning_price(versions, now)
    allowances = sorted(row["allowances"], key=lambda a: TYPE_ORDER.index(a[0]))
    body = {
        "id": row["id"], "href": f"{base}{OFFERING_PATH}/{row['id']}", "@type": "ProductOffering",
        "name": row["name"], "description": row["description"], "isBundle": row["is_bundle"],
        "isSellable": row["is_sellable"], "lastUpdate": iso(row["updated_at"]),
        "lifecycleStatus": lifecycle_wire(row["lifecycle_status"]), "validFor": valid_for(row["valid_from"], row["valid_to"]),
        "productSpecification": spec_ref,
        "category": [_ref(base, CATEGORY_PATH, c, "Category", n) for c, n in row["categories"]],
        "productOfferingPrice": [_ref(base, PRICE_PATH, p["id"], "ProductOfferingPrice", p["name"]) for p in prices],
        "prodSpecCharValueUse": [_allowance(a, spec_ref) for a in allowances],
        "productOfferingTerm": [_term(row)],
        "sellableNow": not rules.unsellable_reasons(view(row), versions, now),
    }
    if winner is not None:
        name = next(p["name"] for p in prices if p["id"] == winner.id)
        body["activePrice"] = {**_ref(base, PRICE_PATH, winner.id, "ProductOfferingPrice", name),
                               "priceType": PRICE_TYPE_WIRE[winner.price_type], "priceMinor": winner.price_minor,
                               "currency": winner.currency, "periodDays": winner.period_days}
    return {k: v for k, v in body.items() if v is not None}


def _ref(base: str, path: str, ident: str, referred_type: str, name: str) -> dict[str, Any]:
    return {"id": ident, "href": f"{base}{path}/{ident}", "@referredType": referred_type, "name": name}


def _next_edge(rows: list[Any], now: dt.datetime) -> dt.datetime | None:
    """The first instant after `now` at which an offering's or a price's window opens or closes."""
    windows = [(row["valid_from"], row["valid_to"]) for row in rows]
    windows += [(price[_PRICE_FROM], price[_PRICE_TO]) for row in rows for price in row["prices"]]
    return min((t for window in windows for t in window if t is not None and t > now), default=None)


Render = Callable[[dt.datetime], Awaitable[tuple[Response, list[Any]]]]


async def _cached(request: Request, render: Render) -> Response:
    """Serve a read from this process's catalog cache while it holds (`apis/catalog_cache.py`)."""
    cache: CatalogCache = request.app.state.catalog_cache
    now, key = clock.now(), str(request.url)
    if (kept := cache.get(key, now)) is not None:
        return Response(kept.body, headers=kept.headers, media_type=JSON_TYPE)
    generation = cache.generation()  # taken before the read: a change committed meanwhile voids the answer
    response, rows = await render(now)
    if generation is not None and response.status_code == 200:
        cache.put(key, CachedAnswer(
            body=bytes(response.body), headers={h: response.headers[h] for h in COUNT_HEADERS if h in response.headers},
            generation=generation, rendered_at=now, valid_until=_next_edge(rows, now)))
    return response


@router.get("/productOffering", scope=Scope.CATALOG_READ)
async def list_offerings(request: Request) -> Response:
    """List offerings, plans first (filters: id, name, lifecycleStatus, isSellable, category.*, productSpecification.id)."""
    async def render(now: dt.datetime) -> tuple[Response, list[Any]]:
        query = with_mandatory(parse_list_query(request, FILTERS), "productSpecification")
        rows, total = await load_offerings(query.filters, query.offset, query.limit)
        return list_response([_to_tmf(row, request, now) for row in rows], total, query), rows

    return await _cached(request, render)


@router.get("/productOffering/{offering_id}", scope=Scope.CATALOG_READ)
async def get_offering(offering_id: str, request: Request, fields: str | None = None) -> Response:
    """Show one offering with its prices, allowances, terms and what it costs now."""
    async def render(now: dt.datetime) -> tuple[Response, list[Any]]:
        body, row = await _body_and_row(offering_id, request, now)
        return tmf_response(select_fields(body, item_fields(fields, "productSpecification"))), [row]

    return await _cached(request, render)


def _categories(body: OfferingCreate) -> tuple[str, ...]:
    """The categories named, else the kind's: the specification's (a VAS one), or a plan's."""
    if body.category:
        return tuple(c.id for c in body.category)
    spec = body.productSpecification.id if body.productSpecification else None
    kind = next((k for k, s in KIND_SPECIFICATION.items() if s == spec), OfferingKind.PLAN)
    return (KIND_CATEGORY[kind],)


def _draft(body: OfferingCreate) -> rules.OfferingDraft:
    category_ids = _categories(body)
    kinds = [kind for kind, cat in KIND_CATEGORY.items() if cat in category_ids]
    kind = kinds[0] if len(kinds) == 1 else None
    term = body.productOfferingTerm[0] if body.productOfferingTerm else None
    if term and term.name == "renewalPeriod" and term.seconds() not in (None, PERIOD_DAYS * 86400):
        raise MalformedRequest("request.malformed", f"productOfferingTerm.0.duration: plans renew every {PERIOD_DAYS} "
                               "days", {"field": "productOfferingTerm.0.duration"})
    expiry = {"endOfPeriod": VasExpiry.END_OF_PERIOD, "duration": VasExpiry.DURATION}.get(term.name) if term else None
    slug = re.sub(r"[^A-Z0-9]+", "_", body.name.upper()).strip("_")[:30]
    window = body.validFor or TimePeriodIn()
    return rules.OfferingDraft(
        id=body.id or f"{(kind or OfferingKind.PLAN).value.upper()}_{slug}", name=body.name, kind=kind,
        specification_id=body.productSpecification.id if body.productSpecification else KIND_SPECIFICATION.get(
            kind or OfferingKind.PLAN, ""),
        category_ids=category_ids, valid_from=window.startDateTime or clock.now(), valid_to=window.endDateTime,
        allowances=tuple(Allowance(allowance_type=u.name, quantity=u.productSpecCharacteristicValue[0].value,
                                   unit=u.productSpecCharacteristicValue[0].unitOfMeasure)
                         for u in body.prodSpecCharValueUse),
        vas_expiry=expiry, vas_duration_seconds=term.seconds() if term and term.name == "duration" else None)


async def _body_and_row(offering_id: str, request: Request, now: dt.datetime) -> tuple[dict[str, Any], Any]:
    rows, _ = await load_offerings({"id": offering_id})
    if not rows:
        raise NotFound("product_offering", offering_id)
    return _to_tmf(rows[0], request, now), rows[0]


async def _body(offering_id: str, request: Request) -> dict[str, Any]:
    """An offering as it is now, straight from the database (answers to writes)."""
    return (await _body_and_row(offering_id, request, clock.now()))[0]


@router.post("/productOffering", scope=Scope.CATALOG_ADMIN, status_code=201)
async def create_offering(body: OfferingCreate, request: Request) -> JSONResponse:
    """Add a plan or VAS with its allowances (`add-offering`); price it with POST /productOfferingPrice."""
    body.refuse_unsupported()
    draft = _draft(body)
    await admin.precheck(admin.check_offering, draft)
    await admin.add_offering(draft, description=body.description, is_sellable=body.isSellable,
                             lifecycle_status=parse_lifecycle(body.lifecycleStatus))
    catalog_changed(request)
    return tmf_response(await _body(draft.id, request), status=201)


@router.patch("/productOffering/{offering_id}", scope=Scope.CATALOG_ADMIN)
async def patch_offering(offering_id: str, body: OfferingUpdate, request: Request) -> JSONResponse:
    """Rename, describe, (un)mark sellable, move the window, launch or retire an offering (`window`)."""
    present = body.model_fields_set
    changes: dict[str, Any] = {}
    for wire, column in (("name", "name"), ("isSellable", "is_sellable"), ("description", "description")):
        if wire in present:
            if getattr(body, wire) is None and wire != "description":
                raise MalformedRequest("request.malformed", f"{wire}: cannot be removed", {"field": wire})
            changes[column] = getattr(body, wire)
    if body.validFor is not None:
        window = body.validFor.model_fields_set
        if "startDateTime" in window:
            if body.validFor.startDateTime is None:
                raise MalformedRequest("request.malformed", "validFor.startDateTime: cannot be removed",
                                       {"field": "validFor.startDateTime"})
            changes["valid_from"] = body.validFor.startDateTime
        if "endDateTime" in window:
            changes["valid_to"] = body.validFor.endDateTime
    patch = admin.Patch(changes=changes, lifecycle_status=parse_lifecycle(body.lifecycleStatus)
                        if body.lifecycleStatus else None)
    if changes or patch.lifecycle_status is not None:
        await admin.precheck(admin.check_offering_patch, offering_id, patch)
        await admin.change_offering(offering_id, patch)
        catalog_changed(request)
    return tmf_response(await _body(offering_id, request))


@router.delete("/productOffering/{offering_id}", scope=Scope.CATALOG_ADMIN, status_code=204)
async def delete_offering(offering_id: str, request: Request) -> Response:
    """Retire an offering (`retire`): off sale for good; it stays readable and its lines keep it."""
    patch = admin.Patch(lifecycle_status=LifecycleStatus.RETIRED)
    await admin.precheck(admin.check_offering_patch, offering_id, patch)
    await admin.change_offering(offering_id, patch)
    catalog_changed(request)
    return Response(status_code=204)
