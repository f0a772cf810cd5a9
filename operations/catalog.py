"""Catalog operations: compare plans, show an offering and its prices, list VAS and price migrations; admin changes.

Quantities are what people say (`30GB`, `500MB`, `100min`, `unlimited`) and go to the API in base
units (MB, seconds, SMS); prices in major units (`25.00`) go as TMF `Money`; dates are ISO dates or
instants (UTC when no zone is given).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from core.scopes import Scope
from operations.registry import Client, Input, NoInput, operation

BASE = "/tmf-api/productCatalogManagement/v4"
OFFERING, PRICE = f"{BASE}/productOffering", f"{BASE}/productOfferingPrice"
SPEC = f"{BASE}/productSpecification"
USAGE_SPEC = "/tmf-api/usageManagement/v4/usageSpecification"
MIGRATION = "/catalog-api/v1/priceMigration"
SIZES = {"gb": 1024, "mb": 1}
SPANS = {"s": 1, "min": 60, "m": 60, "h": 3600, "d": 86400}
UNITS = {"data": "MB", "voice": "s", "sms": "sms", "data_roaming": "MB"}
ALLOWANCE = {"data": "data", "voice": "voice", "sms": "sms", "roaming": "data_roaming"}  # field → allowance
AMOUNT = r"^\d+(\.\d{1,2})?$"


def quantity(text: str, allowance: str) -> int:
    """Parse `30GB`, `500MB`, `100min`, `90s`, `100` or `unlimited` into the allowance's base unit."""
    value = text.strip().lower()
    if value in ("unlimited", "-1"):
        return -1
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value)
    units = SIZES if allowance in ("data", "data_roaming") else SPANS if allowance == "voice" else {"": 1, "sms": 1}
    default = {"data": "mb", "data_roaming": "mb", "voice": "min"}.get(allowance, "")
    if not match or (match.group(2) or default) not in units:
        raise ValueError(f"'{text}' is not a {allowance} amount (e.g. 5GB, 500MB, 100min, 100, unlimited)")
    amount = float(match.group(1)) * units[match.group(2) or default]
    if amount != int(amount):
        raise ValueError(f"'{text}' is not a whole number of base units")
    return int(amount)


def instant(text: str | None) -> str | None:
    """A date or ISO instant (naive means UTC) in the API's ISO form."""
    if text is None:
        return None
    moment = dt.datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).isoformat().replace("+00:00", "Z")


def _check_instant(text: str | None) -> str | None:
    try:
        instant(text)
    except ValueError:
        raise ValueError(f"'{text}' is not an ISO date or instant") from None
    return text


def money(text: str) -> dict[str, Any]:
    """A TMF `Money` from a major-unit amount."""
    return {"unit": "SGD", "value": float(text)}


def _window(start: str | None, end: str | None) -> dict[str, Any]:
    return {k: v for k, v in {"startDateTime": instant(start), "endDateTime": instant(end)}.items() if v}


OfferingField = Field(min_length=1, description="Offering id, e.g. PLAN_M or VAS_DATA_1GB.")
PriceField = Field(pattern=AMOUNT, description="Tax-inclusive amount in SGD, e.g. 25.00.")


def _when(description: str = "ISO date or instant (UTC when no zone), e.g. 2026-04-01.") -> Any:
    return Field(default=None, description=description)


class Dated(Input):
    """A model whose `valid_from`/`valid_to`/`effective_from` fields are ISO dates or instants."""

    @field_validator("valid_from", "valid_to", "effective_from", check_fields=False)
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        return _check_instant(value)


class ListPlans(Input):
    """Which plans to compare."""

    include_all: bool = Field(default=False, description="Include retired and in-design plans.",
                              json_schema_extra={"flag": "--all"})


@operation("catalog.list", scope=Scope.CATALOG_READ, routes=[f"GET {OFFERING}"], result="list")
def list_(client: Client, args: ListPlans) -> Any:
    """Compare the plans side by side: price per 30 days, data, voice, SMS, roaming data."""
    return client.request("GET", OFFERING, params={"category.id": "PLANS",
                                                   "lifecycleStatus": None if args.include_all else "Active"})


class ShowOffering(Input):
    """Which offering."""

    offering_id: str = OfferingField


@operation("catalog.show", scope=Scope.CATALOG_READ, routes=[f"GET {OFFERING}/{{offering_id}}"],
           arguments=("offering_id",))
def show(client: Client, args: ShowOffering) -> Any:
    """Show an offering: status, the price in force, every price version with its window, allowances."""
    return client.request("GET", f"{OFFERING}/{args.offering_id}")


@operation("catalog.prices", scope=Scope.CATALOG_READ, routes=[f"GET {PRICE}"], arguments=("offering_id",),
           result="list")
def prices(client: Client, args: ShowOffering) -> Any:
    """List an offering's price versions with their windows, oldest first."""
    return client.request("GET", PRICE, params={"productOffering.id": args.offering_id})



@operation("catalog.vas", scope=Scope.CATALOG_READ, routes=[f"GET {OFFERING}"], result="list")
def vas(client: Client, args: NoInput) -> Any:
    """List the value-added services: price, what each adds, when it expires."""
    return client.request("GET", OFFERING, params={"category.id": "VAS", "lifecycleStatus": "Active"})


class ListMigrations(Input):
    """Which price migrations."""

    offering_id: str | None = Field(default=None, description="Only this offering's migrations.",
                                    json_schema_extra={"flag": "--offering"})
    limit: int = Field(default=100, ge=1, le=1000, description="At most this many migrations.")


@operation("catalog.migrations", scope=Scope.CATALOG_READ, routes=[f"GET {MIGRATION}"], result="list")
def migrations(client: Client, args: ListMigrations) -> Any:
    """List price migrations (scheduled and effective), latest effective date first."""
    return client.request("GET", MIGRATION, params={"offeringId": args.offering_id, "limit": args.limit})


class AddOffering(Dated):
    """A new plan or VAS, its allowances and optionally its launch price."""

    name: str = Field(min_length=1, description="Commercial name, e.g. Ultra.")
    kind: Literal["plan", "vas"] = Field(default="plan", description="plan | vas.")
    offering_id: str | None = Field(default=None, description="Id (default from kind and name).",
                                    json_schema_extra={"flag": "--id"})
    description: str | None = Field(default=None, description="One-line description.")
    data: str | None = Field(default=None, description="Data, e.g. 30GB or unlimited.")
    voice: str | None = Field(default=None, description="Voice, e.g. 100min or unlimited.")
    sms: str | None = Field(default=None, description="SMS count or unlimited.")
    roaming: str | None = Field(default=None, description="Roaming data, e.g. 1GB.")
    expiry: str | None = Field(default=None, description="VAS only: end-of-period or a span (24h).")
    price: str | None = Field(default=None, pattern=AMOUNT, description="Also set the launch price (SGD).")
    valid_from: str | None = _when()
    valid_to: str | None = _when()
    in_design: bool = Field(default=False, description="Not on sale until launched.")

    @field_validator("data", "voice", "sms", "roaming", "expiry")
    @classmethod
    def _quantity(cls, text: str | None, info: ValidationInfo) -> str | None:
        if text is not None and text != "end-of-period":
            quantity(text, ALLOWANCE.get(info.field_name or "", "voice"))
        return text

    def allowances(self) -> dict[str, str]:
        """The allowances given (a plan's unspecified ones are 0)."""
        given = {"data": self.data, "voice": self.voice, "sms": self.sms, "data_roaming": self.roaming}
        fill = "0" if self.kind == "plan" else None
        return {k: v if v is not None else fill for k, v in given.items() if v is not None or fill}


@operation("catalog.add_offering", scope=Scope.CATALOG_ADMIN,
           routes=[f"POST {OFFERING}", f"POST {PRICE}", f"GET {OFFERING}/{{offering_id}}"])
def add_offering(client: Client, args: AddOffering) -> Any:
    """Add a plan or VAS with its allowances (plans: unspecified allowances are 0), optionally priced."""
    body: dict[str, Any] = {
        "name": args.name, "category": [{"id": "PLANS" if args.kind == "plan" else "VAS"}],
        "lifecycleStatus": "In design" if args.in_design else "Active",
        "prodSpecCharValueUse": [{"name": k, "productSpecCharacteristicValue": [
            {"value": quantity(v, k), "unitOfMeasure": UNITS[k]}]} for k, v in args.allowances().items()]}
    if args.expiry:
        body["productOfferingTerm"] = [{"name": "endOfPeriod"} if args.expiry == "end-of-period" else
                                       {"name": "duration", "duration": {"amount": quantity(args.expiry, "voice"),
                                                                         "units": "s"}}]
    body |= {k: v for k, v in {"id": args.offering_id, "description": args.description,
                               "validFor": _window(args.valid_from, args.valid_to) or None}.items() if v}
    created = client.request("POST", OFFERING, json=body)
    if args.price is None:
        return created
    client.request("POST", PRICE, json=_price_body(created, args.price, None, None, None))
    return client.request("GET", f"{OFFERING}/{created['id']}")


class SetPrice(Dated):
    """A new price version of an offering."""

    offering_id: str = OfferingField
    price: str = PriceField
    valid_from: str | None = _when()
    valid_to: str | None = _when()
    name: str | None = Field(default=None, description="Name of the version, e.g. Spring promo.")


@operation("catalog.set_price", scope=Scope.CATALOG_ADMIN,
           routes=[f"GET {OFFERING}/{{offering_id}}", f"POST {PRICE}"], arguments=("offering_id",))
def set_price(client: Client, args: SetPrice) -> Any:
    """Add a price version with its window (from now by default); the lowest price in force wins."""
    offering = client.request("GET", f"{OFFERING}/{args.offering_id}")
    return client.request("POST", PRICE, json=_price_body(offering, args.price, args.valid_from, args.valid_to,
                                                          args.name))


def _price_body(offering: dict, price: str, start: str | None, end: str | None, name: str | None) -> dict:
    """The POST /productOfferingPrice body: a plan recurs every 30 days, a VAS is charged once."""
    recurring = not any(c.get("id") == "VAS" for c in offering.get("category", []))
    body: dict[str, Any] = {"name": name or f"{offering['name']} price", "productOffering": {"id": offering["id"]},
                            "priceType": "recurring" if recurring else "oneTime", "price": money(price)}
    if recurring:
        body |= {"recurringChargePeriodType": "day", "recurringChargePeriodLength": 30}
    window = _window(start, end)
    return body | ({"validFor": window} if window else {})


class UpdatePrice(Dated):
    """What changes on a price version: its name or the end of its window (amount and start never change)."""

    price_id: str = Field(min_length=1, description="Price version id, e.g. POP_PLAN_M_1.")
    name: str | None = Field(default=None, min_length=1, description="New name of the version.")
    valid_to: str | None = _when("Close it at this ISO date or instant (not in the past).")
    open_ended: bool = Field(default=False, description="Remove the end of its window.")

    @model_validator(mode="after")
    def _something(self) -> UpdatePrice:
        if not (self.name or self.valid_to or self.open_ended):
            raise ValueError("say what changes: --name, --valid-to or --open-ended")
        if self.valid_to and self.open_ended:
            raise ValueError("--valid-to and --open-ended contradict each other")
        return self


@operation("catalog.update_price", scope=Scope.CATALOG_ADMIN, routes=[f"PATCH {PRICE}/{{price_id}}"],
           arguments=("price_id",))
def update_price(client: Client, args: UpdatePrice) -> Any:
    """Rename a price version, or close or re-open its end; a new amount or start needs a new version."""
    window: dict[str, Any] = _window(None, args.valid_to)
    if args.open_ended:
        window["endDateTime"] = None
    body = {k: v for k, v in {"name": args.name, "validFor": window or None}.items() if v is not None}
    return client.request("PATCH", f"{PRICE}/{args.price_id}", json=body)


class Window(Dated):
    """When an offering is on sale, and whether it is launched or retired."""

    offering_id: str = OfferingField
    valid_from: str | None = _when()
    valid_to: str | None = _when()
    open_ended: bool = Field(default=False, description="Remove the end of the window.")
    retire: bool = Field(default=False, description="Retire it: off sale for good.")
    launch: bool = Field(default=False, description="Launch an in-design offering.")

    @model_validator(mode="after")
    def _something(self) -> Window:
        if not (self.valid_from or self.valid_to or self.open_ended or self.retire or self.launch):
            raise ValueError("say what changes: --valid-from, --valid-to, --open-ended, --launch or --retire")
        if self.retire and self.launch:
            raise ValueError("--launch and --retire contradict each other")
        return self


@operation("catalog.window", scope=Scope.CATALOG_ADMIN, routes=[f"PATCH {OFFERING}/{{offering_id}}"],
           destructive=True, arguments=("offering_id",), confirm="Change when {offering_id} is on sale?",
           declined="nothing changed")
def window(client: Client, args: Window) -> Any:
    """Change when an offering is on sale, launch it, or retire it (retiring is for good)."""
    body: dict[str, Any] = {}
    period = _window(args.valid_from, args.valid_to)
    if period or args.open_ended:
        body["validFor"] = period | ({"endDateTime": None} if args.open_ended else {})
    if args.retire or args.launch:
        body["lifecycleStatus"] = "Retired" if args.retire else "Active"
    return client.request("PATCH", f"{OFFERING}/{args.offering_id}", json=body)


class MigratePrice(Dated):
    """A new price for an offering and its existing lines, after notice."""

    offering_id: str = OfferingField
    price: str = PriceField
    notice_days: int = Field(default=30, ge=0, le=3650, description="Notice to existing customers (min 30).")
    effective_from: str | None = _when()
    name: str | None = Field(default=None, description="Name of the new price version.")


@operation("catalog.migrate_price", scope=Scope.CATALOG_ADMIN, routes=[f"POST {MIGRATION}"], destructive=True,
           arguments=("offering_id",), declined="nothing changed",
           confirm="Migrate every {offering_id} line to SGD {price} after {notice_days} days' notice?")
def migrate_price(client: Client, args: MigratePrice) -> Any:
    """Move an offering and its existing lines to a new price after a notice period."""
    body = {"offeringId": args.offering_id, "price": money(args.price), "noticeDays": args.notice_days,
            "effectiveFrom": instant(args.effective_from), "name": args.name}
    return client.request("POST", MIGRATION, json={k: v for k, v in body.items() if v is not None})


@operation("catalog.retire", scope=Scope.CATALOG_ADMIN, routes=[f"DELETE {OFFERING}/{{offering_id}}"],
           destructive=True, arguments=("offering_id",), confirm="Retire {offering_id}? It can never be sold again",
           declined="nothing changed")
def retire(client: Client, args: ShowOffering) -> Any:
    """Retire an offering for good: no new sales; its lines keep it and it stays readable."""
    client.request("DELETE", f"{OFFERING}/{args.offering_id}")
    return client.request("GET", f"{OFFERING}/{args.offering_id}")


SpecField = Field(min_length=1, description="Product specification id, e.g. SPEC_MOBILE_BUNDLE.")


class AddSpec(Input):
    """A new product specification (every one describes data, voice, SMS and roaming data)."""

    name: str = Field(min_length=1, description="Name, e.g. 5G mobile bundle.")
    spec_id: str | None = Field(default=None, description="Id (default SPEC_<NAME>).", json_schema_extra={"flag": "--id"})
    description: str | None = Field(default=None, description="One-line description.")
    in_design: bool = Field(default=False, description="Not usable by new offerings until launched.")


@operation("catalog.add_spec", scope=Scope.CATALOG_ADMIN, routes=[f"POST {SPEC}"])
def add_spec(client: Client, args: AddSpec) -> Any:
    """Add a product specification that new offerings can stand on."""
    body = {"name": args.name, "lifecycleStatus": "In design" if args.in_design else "Active",
            "id": args.spec_id, "description": args.description}
    return client.request("POST", SPEC, json={k: v for k, v in body.items() if v is not None})


class UpdateSpec(Input):
    """What changes on a product specification."""

    spec_id: str = SpecField
    name: str | None = Field(default=None, min_length=1, description="New name.")
    description: str | None = Field(default=None, description="New description.")
    launch: bool = Field(default=False, description="Launch an in-design specification.")
    retire: bool = Field(default=False, description="Retire it (only once no live offering stands on it).")

    @model_validator(mode="after")
    def _something(self) -> UpdateSpec:
        if not (self.name or self.description is not None or self.launch or self.retire):
            raise ValueError("say what changes: --name, --description, --launch or --retire")
        if self.launch and self.retire:
            raise ValueError("--launch and --retire contradict each other")
        return self


@operation("catalog.update_spec", scope=Scope.CATALOG_ADMIN, routes=[f"PATCH {SPEC}/{{specification_id}}"],
           arguments=("spec_id",))
def update_spec(client: Client, args: UpdateSpec) -> Any:
    """Rename or describe a product specification, launch it or retire it."""
    body = {"name": args.name, "description": args.description,
            "lifecycleStatus": "Retired" if args.retire else "Active" if args.launch else None}
    return client.request("PATCH", f"{SPEC}/{args.spec_id}", json={k: v for k, v in body.items() if v is not None})


class AddUsageSpec(Input):
    """A new kind of network event and the usage type it is rated as."""

    name: str = Field(min_length=1, description="Name, e.g. 5G data session.")
    usage_type: Literal["data", "voice", "sms"] = Field(description="Rated as: data | voice | sms.",
                                                         json_schema_extra={"flag": "--rated-as"})
    description: str | None = Field(default=None, description="One-line description.")
    version: str | None = Field(default=None, description="Version label, e.g. 1.0.")


@operation("catalog.add_usage_spec", scope=Scope.CATALOG_ADMIN, routes=[f"POST {USAGE_SPEC}"])
def add_usage_spec(client: Client, args: AddUsageSpec) -> Any:
    """Add a TMF635 usage specification whose events are rated as data, voice or SMS."""
    body = {"name": args.name, "description": args.description, "version": args.version,
            "specCharacteristic": [{"name": "usageType", "characteristicValueSpecification": [
                {"value": args.usage_type}]}]}
    return client.request("POST", USAGE_SPEC, json={k: v for k, v in body.items() if v is not None})
