"""`bss catalog …`: compare plans, show an offering, list VAS; `bss catalog admin …` changes the catalog.

Quantities on the command line are what people say (`30GB`, `500MB`, `100min`, `unlimited`) and
go to the API in base units (MB, seconds, SMS); prices in major units (`25.00`) go as TMF `Money`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

import typer

from cli.output import api_errors, console, emit

BASE = "/tmf-api/productCatalogManagement/v4"
OFFERING, PRICE = f"{BASE}/productOffering", f"{BASE}/productOfferingPrice"
MIGRATION = "/catalog-api/v1/priceMigration"
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
OfferingArg = Annotated[str, typer.Argument(help="Offering id, e.g. PLAN_M or VAS_DATA_1GB.")]
WhenOpt = Annotated[str | None, typer.Option(help="ISO date or instant (UTC when no zone), e.g. 2026-04-01.")]
PriceOpt = Annotated[str, typer.Option("--price", help="Tax-inclusive amount in SGD, e.g. 25.00.")]
SIZES = {"gb": 1024, "mb": 1}
SPANS = {"s": 1, "min": 60, "m": 60, "h": 3600, "d": 86400}


def _client() -> Any:
    from core.api_client import BssClient

    return BssClient()


def quantity(text: str, allowance: str) -> int:
    """Parse `30GB`, `500MB`, `100min`, `90s`, `100` or `unlimited` into the allowance's base unit."""
    value = text.strip().lower()
    if value in ("unlimited", "-1"):
        return -1
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value)
    units = SIZES if allowance in ("data", "data_roaming") else SPANS if allowance == "voice" else {"": 1, "sms": 1}
    default = {"data": "mb", "data_roaming": "mb", "voice": "min"}.get(allowance, "")
    if not match or (match.group(2) or default) not in units:
        raise typer.BadParameter(f"'{text}' is not a {allowance} amount (e.g. 5GB, 500MB, 100min, 100, unlimited)")
    amount = float(match.group(1)) * units[match.group(2) or default]
    if amount != int(amount):
        raise typer.BadParameter(f"'{text}' is not a whole number of base units")
    return int(amount)


def instant(text: str | None, field: str) -> str | None:
    """Parse a date or ISO instant (naive means UTC) into the API's ISO form."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{field}: '{text}' is not an ISO date or instant") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).isoformat().replace("+00:00", "Z")


def amount(text: str) -> dict[str, Any]:
    """A TMF `Money` from a major-unit amount typed by a person."""
    if not re.fullmatch(r"\d+(\.\d{1,2})?", text.strip()):
        raise typer.BadParameter(f"'{text}' is not an amount like 25 or 25.00")
    return {"unit": "SGD", "value": float(text)}


def _confirm(question: str, yes: bool) -> None:
    if not yes and not typer.confirm(question, default=False):
        console.print("[dim]nothing changed[/]")
        raise typer.Exit(1)


def _offering_card(data: dict) -> Any:
    from cli.render.catalog import offering_card

    return offering_card(data)


def register(app: typer.Typer) -> None:
    """Add the `catalog` group (and its `admin` subgroup) to `app`."""
    group = typer.Typer(name="catalog", help="Plans and value-added services: compare, show, administer.",
                        no_args_is_help=True)
    admin = typer.Typer(name="admin", help="Change the catalog (CLI operators only).", no_args_is_help=True)
    group.add_typer(admin)
    app.add_typer(group)

    @group.command("list")
    def list_(all_: Annotated[bool, typer.Option("--all", help="Include retired and in-design plans.")] = False,
              as_json: JsonOpt = False) -> None:
        """Compare the plans side by side: price per 30 days, data, voice, SMS, roaming data."""
        from cli.render.catalog import comparison_card

        with api_errors(as_json), _client() as client:
            data = client.get(OFFERING, **{"category.id": "PLANS", "lifecycleStatus": None if all_ else "Active"})
        emit(data, as_json, comparison_card)

    @group.command("show")
    def show(offering_id: OfferingArg, as_json: JsonOpt = False) -> None:
        """Show an offering: status, the price in force, every price version with its window, allowances."""
        from cli.render.catalog import offering_card

        with api_errors(as_json), _client() as client:
            data = client.get(f"{OFFERING}/{offering_id}")
            prices = [] if as_json else client.get(PRICE, **{"productOffering.id": offering_id})
        emit(data, as_json, lambda offering: offering_card(offering, prices))

    @group.command("vas")
    def vas(as_json: JsonOpt = False) -> None:
        """List the value-added services: price, what each adds, when it expires."""
        from cli.render.catalog import vas_table

        with api_errors(as_json), _client() as client:
            data = client.get(OFFERING, **{"category.id": "VAS", "lifecycleStatus": "Active"})
        emit(data, as_json, vas_table)

    @admin.command("add-offering")
    def add_offering(name: Annotated[str, typer.Option(help="Commercial name, e.g. Ultra.")],
                     kind: Annotated[str, typer.Option(help="plan | vas.")] = "plan",
                     offering_id: Annotated[str | None, typer.Option("--id", help="Id (default from kind and name).")] = None,
                     description: Annotated[str | None, typer.Option(help="One-line description.")] = None,
                     data: Annotated[str | None, typer.Option(help="Data, e.g. 30GB or unlimited.")] = None,
                     voice: Annotated[str | None, typer.Option(help="Voice, e.g. 100min or unlimited.")] = None,
                     sms: Annotated[str | None, typer.Option(help="SMS count or unlimited.")] = None,
                     roaming: Annotated[str | None, typer.Option(help="Roaming data, e.g. 1GB.")] = None,
                     expiry: Annotated[str | None, typer.Option(help="VAS only: end-of-period or a span (24h).")] = None,
                     price: Annotated[str | None, typer.Option(help="Also set the launch price (SGD).")] = None,
                     valid_from: WhenOpt = None, valid_to: WhenOpt = None,
                     in_design: Annotated[bool, typer.Option("--in-design", help="Not on sale until launched.")] = False,
                     as_json: JsonOpt = False) -> None:
        """Add a plan or VAS with its allowances (plans: unspecified allowances are 0), optionally priced."""
        if kind not in ("plan", "vas"):
            raise typer.BadParameter("--kind must be plan or vas")
        given = {"data": data, "voice": voice, "sms": sms, "data_roaming": roaming}
        if kind == "plan":
            given = {k: v if v is not None else "0" for k, v in given.items()}
        units = {"data": "MB", "voice": "s", "sms": "sms", "data_roaming": "MB"}
        body: dict[str, Any] = {
            "name": name, "category": [{"id": "PLANS" if kind == "plan" else "VAS"}],
            "lifecycleStatus": "In design" if in_design else "Active",
            "prodSpecCharValueUse": [{"name": k, "productSpecCharacteristicValue": [
                {"value": quantity(v, k), "unitOfMeasure": units[k]}]} for k, v in given.items() if v is not None]}
        if expiry:
            body["productOfferingTerm"] = [{"name": "endOfPeriod"} if expiry == "end-of-period" else
                                           {"name": "duration", "duration": {"amount": quantity(expiry, "voice"),
                                                                             "units": "s"}}]
        window = {"startDateTime": instant(valid_from, "--valid-from"), "endDateTime": instant(valid_to, "--valid-to")}
        body |= {k: v for k, v in {"id": offering_id, "description": description,
                                   "validFor": {k: v for k, v in window.items() if v} or None}.items() if v}
        with api_errors(as_json), _client() as client:
            created = client.post(OFFERING, body)
            if price is not None:
                client.post(PRICE, _price_body(created, amount(price), None, None, None))
                created = client.get(f"{OFFERING}/{created['id']}")
        emit(created, as_json, _offering_card)

    @admin.command("set-price")
    def set_price(offering_id: OfferingArg, price: PriceOpt, valid_from: WhenOpt = None, valid_to: WhenOpt = None,
                  name: Annotated[str | None, typer.Option(help="Name of the version, e.g. Spring promo.")] = None,
                  as_json: JsonOpt = False) -> None:
        """Add a price version with its window (from now by default); the lowest price in force wins."""
        from cli.render.catalog import price_card

        money = amount(price)
        start, end = instant(valid_from, "--valid-from"), instant(valid_to, "--valid-to")
        with api_errors(as_json), _client() as client:
            offering = client.get(f"{OFFERING}/{offering_id}")
            created = client.post(PRICE, _price_body(offering, money, start, end, name))
        emit(created, as_json, price_card)

    @admin.command("window")
    def window(offering_id: OfferingArg, valid_from: WhenOpt = None, valid_to: WhenOpt = None,
               open_ended: Annotated[bool, typer.Option("--open-ended", help="Remove the end of the window.")] = False,
               retire: Annotated[bool, typer.Option("--retire", help="Retire it: off sale for good.")] = False,
               launch: Annotated[bool, typer.Option("--launch", help="Launch an in-design offering.")] = False,
               yes: YesOpt = False, as_json: JsonOpt = False) -> None:
        """Change when an offering is on sale, launch it, or retire it."""
        period = {"startDateTime": instant(valid_from, "--valid-from"), "endDateTime": instant(valid_to, "--valid-to")}
        body: dict[str, Any] = {"validFor": {k: v for k, v in period.items() if v}} if any(period.values()) else {}
        if open_ended:
            body.setdefault("validFor", {})["endDateTime"] = None
        if retire or launch:
            body["lifecycleStatus"] = "Retired" if retire else "Active"
        if not body:
            raise typer.BadParameter("say what changes: --valid-from, --valid-to, --open-ended, --launch or --retire")
        if retire:
            _confirm(f"Retire {offering_id}? It can never be sold again", yes)
        elif valid_to:
            _confirm(f"End sales of {offering_id} at {period['endDateTime']}?", yes)
        with api_errors(as_json), _client() as client:
            data = client.patch(f"{OFFERING}/{offering_id}", body)
        emit(data, as_json, _offering_card)

    @admin.command("migrate-price")
    def migrate_price(offering_id: OfferingArg, price: PriceOpt,
                      notice_days: Annotated[int, typer.Option(help="Notice to existing customers (min 30).")] = 30,
                      effective_from: WhenOpt = None,
                      name: Annotated[str | None, typer.Option(help="Name of the new price version.")] = None,
                      yes: YesOpt = False, as_json: JsonOpt = False) -> None:
        """Move an offering and its existing lines to a new price after a notice period."""
        from cli.render.catalog import migration_card

        body = {"offeringId": offering_id, "price": amount(price), "noticeDays": notice_days,
                "effectiveFrom": instant(effective_from, "--effective-from"), "name": name}
        _confirm(f"Migrate every {offering_id} line to SGD {price} after {notice_days} days' notice?", yes)
        with api_errors(as_json), _client() as client:
            data = client.post(MIGRATION, {k: v for k, v in body.items() if v is not None})
        emit(data, as_json, migration_card)


def _price_body(offering: dict, money: dict, start: str | None, end: str | None, name: str | None) -> dict:
    """The POST /productOfferingPrice body: a plan recurs every 30 days, a VAS is charged once."""
    from cli.render.catalog import kind

    recurring = kind(offering) == "plan"
    body: dict[str, Any] = {"name": name or f"{offering['name']} price", "productOffering": {"id": offering["id"]},
                            "priceType": "recurring" if recurring else "oneTime", "price": money}
    if recurring:
        body |= {"recurringChargePeriodType": "day", "recurringChargePeriodLength": 30}
    window = {k: v for k, v in {"startDateTime": start, "endDateTime": end}.items() if v}
    return body | ({"validFor": window} if window else {})
