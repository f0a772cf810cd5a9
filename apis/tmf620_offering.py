"""TMF620 `productOffering`: plans and VAS (GET list/item, POST `add-offering`, PATCH `window`).

An offering carries its `productSpecification`, `category` (PLANS or VAS: the kind), every
`productOfferingPrice` version as a ref, and its allowances as `prodSpecCharValueUse`: one per
allowance type, `name` = `data | voice | sms | data_roaming`, the quantity in base units as the
value (`unitOfMeasure` MB, s or sms; -1 = unlimited) and a readable `description` ("30 GB").
`productOfferingTerm` says how long it lasts: `renewalPeriod` (plans, 30 days), `endOfPeriod`
or `duration` (VAS, seconds). Two extensions answer "what does it cost now": `sellableNow`
(active, in its window, priced — at the server's clock) and `activePrice` (the lowest price in
force, in minor units). Filter plans or VAS with `?category.id=PLANS|VAS` (or `category.name`).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncConnection

from activities import catalog_admin as admin
from activities.catalog import price_version, view
from apis.tmf620_catalog import (
    BASE, CATEGORY_PATH, OFFERING_PATH, PRICE_PATH, SPEC_PATH, RefIn, TimePeriodIn, admin_only, human_quantity,
    item_resource, lifecycle_wire, list_resource, load_body, parse_lifecycle, valid_for,
)
from apis.tmf import href, iso, ref, tmf_response
from apis.tmf620_price import PRICE_TYPE_WIRE
from core import clock
from core.errors import MalformedRequest
from domain.catalog import (
    KIND_CATEGORY, KIND_SPECIFICATION, PERIOD_DAYS, Allowance, AllowanceType, OfferingKind, VasExpiry,
    bundle_allowance, category, offering_category, product_offering, product_offering_price, product_specification,
)
from policies import catalog as rules

UNIT_SECONDS = {"s": 1, "second": 1, "seconds": 1, "minute": 60, "minutes": 60, "h": 3600, "hour": 3600,
                "hours": 3600, "day": 86400, "days": 86400}
TYPE_ORDER = list(AllowanceType)

router = APIRouter(prefix=BASE, tags=["TMF620 product catalog"])


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

    model_config = ConfigDict(extra="forbid")
    name: Literal["endOfPeriod", "duration", "renewalPeriod"]
    description: str | None = Field(default=None, max_length=200)
    duration: QuantityIn | None = None

    def seconds(self) -> int | None:
        """The duration in seconds, if any."""
        return self.duration.amount * UNIT_SECONDS[self.duration.units] if self.duration else None


class OfferingCreate(BaseModel):
    """Body of POST /productOffering (`id` optional: derived from kind and name when absent)."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]{2,39}$")  # the full rule is catalog.offering.id_valid
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    isBundle: Literal[False] | None = None
    isSellable: bool = True
    lifecycleStatus: Literal["In design", "Active"] = "Active"
    validFor: TimePeriodIn | None = None
    category: list[RefIn] = Field(min_length=1, max_length=5)
    productSpecification: RefIn | None = None
    prodSpecCharValueUse: list[CharValueUseIn] = Field(default_factory=list, max_length=4)
    productOfferingTerm: list[TermIn] = Field(default_factory=list, max_length=1)
    type_: Literal["ProductOffering"] | None = Field(default=None, alias="@type")


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


def _allowance(a: Any, spec_ref: dict[str, Any]) -> dict[str, Any]:
    return {"name": a["allowance_type"], "description": human_quantity(a["quantity"], a["unit"]),
            "valueType": "integer", "minCardinality": 1, "maxCardinality": 1, "productSpecification": spec_ref,
            "productSpecCharacteristicValue": [{"isDefault": True, "valueType": "integer", "value": a["quantity"],
                                                "unitOfMeasure": a["unit"]}]}


async def offerings_to_tmf(conn: AsyncConnection, rows: list[Any], request: Request) -> list[dict[str, Any]]:
    """Map offering rows to TMF bodies, loading their categories, prices and allowances in batches."""
    ids = [r["id"] for r in rows]
    cats = (await conn.execute(select(offering_category.c.offering_id, category.c.id, category.c.name).join(
        category, category.c.id == offering_category.c.category_id).where(
        offering_category.c.offering_id.in_(ids)).order_by(category.c.id))).all()
    specs = dict((await conn.execute(select(product_specification.c.id, product_specification.c.name).where(
        product_specification.c.id.in_({r["specification_id"] for r in rows})))).tuples().all())
    allowances = (await conn.execute(select(bundle_allowance).where(bundle_allowance.c.offering_id.in_(ids)))).mappings()
    by_offering: dict[str, list[Any]] = {}
    for a in sorted(allowances, key=lambda a: TYPE_ORDER.index(a["allowance_type"])):
        by_offering.setdefault(a["offering_id"], []).append(a)
    prices = (await conn.execute(select(product_offering_price).where(product_offering_price.c.offering_id.in_(ids))
                                 .order_by(product_offering_price.c.valid_from, product_offering_price.c.id))).mappings()
    price_rows: dict[str, list[Any]] = {}
    for p in prices:
        price_rows.setdefault(p["offering_id"], []).append(p)
    return [_to_tmf(r, request, specs.get(r["specification_id"]), [(c, n) for o, c, n in cats if o == r["id"]],
                    by_offering.get(r["id"], []), price_rows.get(r["id"], [])) for r in rows]


def _to_tmf(row: Any, request: Request, spec_name: str | None, cats: list[tuple[str, str]], allowances: list[Any],
            prices: list[Any]) -> dict[str, Any]:
    now = clock.now()
    spec_ref = ref(request, SPEC_PATH, row["specification_id"], "ProductSpecification", spec_name)
    versions = [price_version(p) for p in prices]
    winner = rules.winning_price(versions, now)
    body = {
        "id": row["id"], "href": href(request, f"{OFFERING_PATH}/{row['id']}"), "@type": "ProductOffering",
        "name": row["name"], "description": row["description"], "isBundle": row["is_bundle"],
        "isSellable": row["is_sellable"], "lastUpdate": iso(row["updated_at"]),
        "lifecycleStatus": lifecycle_wire(row["lifecycle_status"]), "validFor": valid_for(row["valid_from"], row["valid_to"]),
        "productSpecification": spec_ref,
        "category": [ref(request, CATEGORY_PATH, c, "Category", n) for c, n in cats],
        "productOfferingPrice": [ref(request, PRICE_PATH, p["id"], "ProductOfferingPrice", p["name"]) for p in prices],
        "prodSpecCharValueUse": [_allowance(a, spec_ref) for a in allowances],
        "productOfferingTerm": [_term(row)],
        "sellableNow": not rules.unsellable_reasons(view(row), versions, now),
    }
    if winner is not None:
        name = next(p["name"] for p in prices if p["id"] == winner.id)
        body["activePrice"] = {**ref(request, PRICE_PATH, winner.id, "ProductOfferingPrice", name),
                               "priceType": PRICE_TYPE_WIRE[winner.price_type], "priceMinor": winner.price_minor,
                               "currency": winner.currency, "periodDays": winner.period_days}
    return {k: v for k, v in body.items() if v is not None}


def _in_category(column: Any) -> Any:
    def clause(value: str) -> ColumnElement[bool]:
        """Offerings in the category whose `column` equals `value`."""
        members = select(offering_category.c.offering_id).join(
            category, category.c.id == offering_category.c.category_id).where(column == value)
        return product_offering.c.id.in_(members)
    return clause


def _flag(value: str) -> ColumnElement[bool]:
    if value not in ("true", "false"):
        raise MalformedRequest("request.malformed", "isSellable must be true or false", {"field": "isSellable"})
    return product_offering.c.is_sellable.is_(value == "true")


FILTERS = {"id": product_offering.c.id, "name": product_offering.c.name,
           "productSpecification.id": product_offering.c.specification_id}
SPECIAL = {"category.id": _in_category(category.c.id), "category.name": _in_category(category.c.name),
           "isSellable": _flag}


@router.get("/productOffering")
async def list_offerings(request: Request) -> JSONResponse:
    """List offerings, plans first (filters: id, name, lifecycleStatus, isSellable, category.*, productSpecification.id)."""
    return await list_resource(request, product_offering, FILTERS, offerings_to_tmf, SPECIAL,
                               order_by=(product_offering.c.kind, product_offering.c.id), keep=("productSpecification",))


@router.get("/productOffering/{offering_id}")
async def get_offering(offering_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one offering with its prices, allowances, terms and what it costs now."""
    return await item_resource(product_offering, offering_id, "product_offering", offerings_to_tmf, request, fields,
                               "productSpecification")


def _draft(body: OfferingCreate) -> rules.OfferingDraft:
    category_ids = tuple(c.id for c in body.category)
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


async def _body(offering_id: str, request: Request) -> dict[str, Any]:
    return await load_body(product_offering, offering_id, "product_offering", offerings_to_tmf, request)


@router.post("/productOffering", status_code=201, dependencies=[Depends(admin_only)])
async def create_offering(body: OfferingCreate, request: Request) -> JSONResponse:
    """Add a plan or VAS with its allowances (`add-offering`); price it with POST /productOfferingPrice."""
    draft = _draft(body)
    await admin.precheck(admin.check_offering, draft)
    await admin.add_offering(draft, description=body.description, is_sellable=body.isSellable,
                             lifecycle_status=parse_lifecycle(body.lifecycleStatus))
    return tmf_response(await _body(draft.id, request), status=201)


@router.patch("/productOffering/{offering_id}", dependencies=[Depends(admin_only)])
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
    return tmf_response(await _body(offering_id, request))
