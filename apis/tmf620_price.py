"""TMF620 `productOfferingPrice`: price versions with validity windows (GET, POST, PATCH).

Wire mapping: stored `one_time` is `oneTime`; a recurring price says its period honestly in days
(`recurringChargePeriodType: "day"`, `recurringChargePeriodLength: 30`); `price` is the v4
`Money` (`{unit, value}`, tax-inclusive, `value` = minor units / 100 exactly). `lifecycleStatus`
follows the window: `Retired` once it has ended, else `Active` (a version whose start is still
ahead says so in `validFor`). Each version carries `productOffering`, the ref of the offering it
prices (an extension: v4 has no back-reference, and a version belongs to exactly one offering);
`?productOffering.id=` filters on it. POST adds a version; PATCH may rename one or close/re-open
its end — amount, type, period and start are immutable (`catalog.price.immutable`).

The spec's minimal create body is a name: `priceType` defaults from the offering's kind (a plan
recurs every 30 days, a VAS is charged once), `recurringChargePeriodLength` to 30 days and
`price.unit` to SGD; the offering and the amount cannot be guessed (422
`catalog.price.offering_required` / `catalog.price.amount_required`). Of the spec's other optional
attributes, `lastUpdate`, `@baseType`, `@schemaLocation` are ignored; a `priceType` or period unit we do
not sell is the kind's rule (`type_matches_kind`, `period_30_days`); those we do not keep (description —
ours is written from the amount —, tax — prices are tax-inclusive —, percentage, relationships,
constraint, place, pricing logic, characteristic uses, terms, unitOfMeasure, version, another `@type` or
lifecycle) answer 422 `catalog.price.attribute_unsupported` naming them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from activities import catalog_admin as admin
from activities.catalog import get_offering
from apis.catalog_cache import catalog_changed
from apis.routing import BssRouter
from apis.tmf import href, iso, ref, tmf_response
from apis.tmf620_catalog import (
    BASE,
    OFFERING_PATH,
    PRICE_PATH,
    RefIn,
    TimePeriodIn,
    item_resource,
    list_resource,
    load_body,
    parse_lifecycle,
    valid_for,
)
from core import clock
from core.errors import MalformedRequest, PolicyViolation
from core.scopes import Scope
from domain.catalog import (
    CURRENCY,
    PERIOD_DAYS,
    LifecycleStatus,
    PriceType,
    product_offering,
    product_offering_price,
)
from domain.money import Money
from policies import catalog as rules
from policies.base import raise_if, violation

PRICE_TYPE_WIRE = {PriceType.RECURRING: "recurring", PriceType.ONE_TIME: "oneTime"}
PRICE_TYPE_STORED = {wire: stored for stored, wire in PRICE_TYPE_WIRE.items()}
PRICE_UNSUPPORTED = ("description", "bundledPopRelationship", "constraint", "percentage", "place", "popRelationship",
                     "pricingLogicAlgorithm", "prodSpecCharValueUse", "productOfferingTerm", "tax", "unitOfMeasure",
                     "version")
MAX_PRICE_MINOR = 10_000_000  # SGD 100,000: far above any plan, well inside the integer column

router = BssRouter(prefix=BASE, tags=["TMF620 product catalog"])


class MoneyIn(BaseModel):
    """A TMF v4 `Money`: ISO currency and a tax-inclusive amount in major units."""

    model_config = ConfigDict(extra="forbid")
    unit: str | None = Field(default=None, pattern="^[A-Z]{3}$")  # default: the catalog currency
    value: float | None = Field(default=None, ge=0)


def minor_units(money: MoneyIn, field: str = "price.value") -> int:
    """Convert a major-unit amount to integer minor units exactly (at most 2 decimals)."""
    scaled = Decimal(str(money.value or 0)).scaleb(2)
    if scaled != scaled.to_integral_value() or scaled > MAX_PRICE_MINOR:
        raise MalformedRequest("request.malformed", f"{field}: at most 2 decimals and at most "
                               f"{MAX_PRICE_MINOR // 100:,}", {"field": field})
    return int(scaled)


class PriceCreate(BaseModel):
    """Body of POST /productOfferingPrice: a new price version for one offering."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    productOffering: RefIn | None = None
    priceType: str | None = None
    price: MoneyIn | None = None
    recurringChargePeriodType: str | None = None
    recurringChargePeriodLength: int | None = Field(default=None, gt=0)
    validFor: TimePeriodIn | None = None
    isBundle: bool | None = None
    lifecycleStatus: str | None = None
    lastUpdate: str | None = None  # server-set: ignored
    type_: str | None = Field(default=None, alias="@type")
    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")
    description: Any = None  # ours is written from the amount and period
    bundledPopRelationship: Any = None
    constraint: Any = None
    percentage: Any = None
    place: Any = None
    popRelationship: Any = None
    pricingLogicAlgorithm: Any = None
    prodSpecCharValueUse: Any = None
    productOfferingTerm: Any = None
    tax: Any = None
    unitOfMeasure: Any = None
    version: Any = None

    def refuse_unsupported(self) -> None:
        """422 `catalog.price.attribute_unsupported` naming the spec's attributes we do not keep."""
        found = [name for name in PRICE_UNSUPPORTED if getattr(self, name) is not None]
        found += ["isBundle"] if self.isBundle else []
        found += ["@type"] if self.type_ not in (None, "ProductOfferingPrice") else []
        found += ["lifecycleStatus"] if self.lifecycleStatus not in (None, "Active", "active") else []
        if found:
            raise PolicyViolation(violation("catalog.price.attribute_unsupported",
                                            f"not kept by this system: {', '.join(found)} (prices are tax-inclusive "
                                            "amounts of one offering)", attributes=found))

    @model_validator(mode="after")
    def _period_matches_type(self) -> PriceCreate:
        one_time = self.priceType == "oneTime"
        if not one_time and "recurringChargePeriodLength" in self.model_fields_set and (
                self.recurringChargePeriodLength is None):
            raise ValueError("recurringChargePeriodLength: a number of days (leave it out for 30)")
        if one_time and self.recurringChargePeriodLength is not None:
            raise ValueError("recurringChargePeriodLength is only for a recurring price")
        if one_time and self.recurringChargePeriodType is not None:
            raise ValueError("recurringChargePeriodType is only for a recurring price")
        return self


class PriceUpdate(BaseModel):
    """Body of PATCH /productOfferingPrice/{id}: rename, or move the end (`validFor.endDateTime`)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    validFor: TimePeriodIn | None = None
    # Accepted so the refusal is the rule (`catalog.price.immutable`), not a schema error.
    priceType: Literal["recurring", "oneTime"] | None = None
    price: MoneyIn | None = None
    recurringChargePeriodLength: int | None = Field(default=None, gt=0)
    type_: Literal["ProductOfferingPrice"] | None = Field(default=None, alias="@type")


def money(amount_minor: int, currency: str) -> dict[str, Any]:
    """A TMF `Money` from integer minor units."""
    return {"unit": currency, "value": Money(amount_minor, currency).major}


def to_tmf(row: Any, offering_name: str | None, request: Request) -> dict[str, Any]:
    """Map a price version row to TMF620 `ProductOfferingPrice`."""
    ended = row["valid_to"] is not None and row["valid_to"] <= clock.now()
    recurring = row["price_type"] == PriceType.RECURRING
    every = f"every {row['recurring_period_days']} days" if recurring else "once"
    body = {
        "id": row["id"], "href": href(request, f"{PRICE_PATH}/{row['id']}"), "@type": "ProductOfferingPrice",
        "name": row["name"], "description": f"{Money(row['price_minor'], row['currency']).format()} {every}, tax included",
        "isBundle": False, "lastUpdate": iso(row["updated_at"]),
        "lifecycleStatus": "Retired" if ended else "Active", "priceType": PRICE_TYPE_WIRE[PriceType(row["price_type"])],
        "price": money(row["price_minor"], row["currency"]), "validFor": valid_for(row["valid_from"], row["valid_to"]),
        "productOffering": ref(request, OFFERING_PATH, row["offering_id"], "ProductOffering", offering_name),
    }
    if recurring:
        body |= {"recurringChargePeriodType": "day", "recurringChargePeriodLength": row["recurring_period_days"]}
    return body


async def prices_to_tmf(conn: AsyncConnection, rows: list[Any], request: Request) -> list[dict[str, Any]]:
    """Map price rows, naming the offering each one prices."""
    ids = {r["offering_id"] for r in rows}
    names = dict((await conn.execute(select(product_offering.c.id, product_offering.c.name).where(
        product_offering.c.id.in_(ids)))).tuples().all())
    return [to_tmf(r, names.get(r["offering_id"]), request) for r in rows]


def _lifecycle(text: str) -> ColumnElement[bool]:
    end, now = product_offering_price.c.valid_to, clock.now()
    state = parse_lifecycle(text)
    if state is LifecycleStatus.ACTIVE:
        return or_(end.is_(None), end > now)
    return end <= now if state is LifecycleStatus.RETIRED else false()


FILTERS = {"id": product_offering_price.c.id, "name": product_offering_price.c.name,
           "productOffering.id": product_offering_price.c.offering_id}
SPECIAL = {"lifecycleStatus": _lifecycle,
           "priceType": lambda text: product_offering_price.c.price_type == PRICE_TYPE_STORED.get(text, "?")}


@router.get("/productOfferingPrice", scope=Scope.CATALOG_READ)
async def list_prices(request: Request) -> JSONResponse:
    """List price versions (filters: id, name, priceType, lifecycleStatus, productOffering.id; fields; paging)."""
    return await list_resource(request, product_offering_price, FILTERS, prices_to_tmf, SPECIAL, keep=("priceType",),
                               order_by=(product_offering_price.c.offering_id, product_offering_price.c.valid_from,
                                         product_offering_price.c.id))


@router.get("/productOfferingPrice/{price_id}", scope=Scope.CATALOG_READ)
async def get_price(price_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one price version."""
    return await item_resource(product_offering_price, price_id, "product_offering_price", prices_to_tmf, request,
                               fields, "priceType")


@router.post("/productOfferingPrice", scope=Scope.CATALOG_ADMIN, status_code=201)
async def create_price(body: PriceCreate, request: Request) -> JSONResponse:
    """Add a price version to an offering (`set-price`); the lowest active price wins from its start."""
    admin.require_admin()
    body.refuse_unsupported()
    raise_if(rules.check_price_essentials(offering_given=body.productOffering is not None,
                                          amount_given=body.price is not None and body.price.value is not None))
    assert body.productOffering is not None and body.price is not None  # checked just above
    window = body.validFor or TimePeriodIn()
    price_type = await _price_type(body.productOffering.id, body.priceType)
    recurring = price_type is PriceType.RECURRING
    if recurring and body.recurringChargePeriodType not in (None, "day", "days"):
        raise PolicyViolation(violation("catalog.price.period_30_days", f"a plan recurs every {PERIOD_DAYS} days "
                                        "(recurringChargePeriodType day)", period_type=body.recurringChargePeriodType))
    new = admin.NewPrice(offering_id=body.productOffering.id, name=body.name, price_minor=minor_units(body.price),
                         currency=body.price.unit or CURRENCY, price_type=price_type,
                         period_days=(body.recurringChargePeriodLength or PERIOD_DAYS) if recurring else None,
                         valid_from=window.startDateTime, valid_to=window.endDateTime)
    await admin.precheck(admin.check_price, new)
    ident = await admin.add_price(new)
    catalog_changed(request)
    return tmf_response(await _body(ident, request), status=201)


async def _price_type(offering_id: str, wire: str | None) -> PriceType:
    """The type named, else the offering kind's; a type TMF allows but we do not sell is the kind rule's 422."""
    kind = (await get_offering(offering_id)).kind  # 404 product_offering.not_found when unknown
    expected = rules.KIND_PRICE_TYPE[kind]
    if wire is None:
        return expected
    if wire in PRICE_TYPE_STORED:
        return PRICE_TYPE_STORED[wire]
    raise PolicyViolation(violation("catalog.price.type_matches_kind", f"priceType '{wire}': a {kind.value} is priced "
                                    f"{PRICE_TYPE_WIRE[expected]}", price_type=wire, expected=expected.value))


async def _body(price_id: str, request: Request) -> dict[str, Any]:
    return await load_body(product_offering_price, price_id, "product_offering_price", prices_to_tmf, request)


@router.patch("/productOfferingPrice/{price_id}", scope=Scope.CATALOG_ADMIN)
async def patch_price(price_id: str, body: PriceUpdate, request: Request) -> JSONResponse:
    """Rename a price version or close/re-open its end; anything else needs a new version."""
    present = body.model_fields_set
    changes: dict[str, Any] = {}
    if "name" in present:
        if body.name is None:
            raise MalformedRequest("request.malformed", "name: cannot be removed", {"field": "name"})
        changes["name"] = body.name
    if body.validFor is not None:
        if "startDateTime" in body.validFor.model_fields_set:
            changes["valid_from"] = body.validFor.startDateTime
        if "endDateTime" in body.validFor.model_fields_set:
            changes["valid_to"] = body.validFor.endDateTime
    if body.price is not None and body.price.value is not None:
        changes["price_minor"] = minor_units(body.price)
    if body.price is not None and body.price.unit is not None:
        changes["currency"] = body.price.unit
    if body.priceType is not None:
        changes["price_type"] = PRICE_TYPE_STORED[body.priceType]
    if body.recurringChargePeriodLength is not None:
        changes["recurring_period_days"] = body.recurringChargePeriodLength
    if changes:
        patch = admin.Patch(changes=changes)
        await admin.precheck(admin.check_price_patch, price_id, patch)
        await admin.change_price(price_id, patch)
        catalog_changed(request)
    return tmf_response(await _body(price_id, request))
