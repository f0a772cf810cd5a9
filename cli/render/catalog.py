"""Catalog cards from TMF620 bodies: the plan comparison card, the offering card, the VAS table,
and the results of admin writes (price version, price migration).

Quantities come from the offerings' `prodSpecCharValueUse` in base units and prices from
`activePrice.priceMinor` (or a price version's TMF value, converted exactly), so nothing here
parses display strings.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table

from cli.render.style import card, money, quantity, state, table
from core import clock

ROWS = (("data", "data"), ("voice", "voice"), ("sms", "SMS"), ("data_roaming", "roaming data"))
LIFECYCLE = {"Active": "active", "In design": "in_design", "Retired": "retired"}
STAR = "★"


def when(value: str | None) -> str:
    """Show an ISO instant as `2026-03-01` (midnight) or `2026-03-01 09:30`."""
    if not value:
        return "—"
    stamp = value.replace("T", " ")[:16]
    return stamp[:10] if stamp.endswith("00:00") else stamp


def minor(price: dict[str, Any]) -> int:
    """A TMF `Money` value in minor units, exactly."""
    return int(Decimal(str(price["value"])) * 100)


def allowances(offering: dict[str, Any]) -> dict[str, tuple[int, str]]:
    """Allowance type -> (quantity in base units, unit) from `prodSpecCharValueUse`."""
    found = {}
    for use in offering.get("prodSpecCharValueUse", []):
        value = use["productSpecCharacteristicValue"][0]
        found[use["name"]] = (value["value"], value["unitOfMeasure"])
    return found


def kind(offering: dict[str, Any]) -> str:
    """`plan` or `vas`, from the category the offering sits in."""
    return "vas" if any(c["id"] == "VAS" for c in offering.get("category", [])) else "plan"


def _amount(value: tuple[int, str] | None) -> str:
    if value is None:
        return "—"
    count, unit = value
    if count == 0:
        return "[dim]none[/]"
    return "[bold]unlimited[/]" if count < 0 else quantity(count, unit)


def _price_now(offering: dict[str, Any]) -> str:
    price = offering.get("activePrice")
    return money(price["priceMinor"], price["currency"]) if price else "[red]no price[/]"


def _by_price(offerings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    unpriced = 10**12  # offerings without a price in force go last
    return sorted(offerings, key=lambda o: (o.get("activePrice", {}).get("priceMinor", unpriced), o["id"]))


def comparison_card(offerings: list[dict[str, Any]]) -> RenderableType:
    """Plans side by side: price per 30 days, data, voice, SMS, roaming data."""
    plans = _by_price([o for o in offerings if kind(o) == "plan"])
    if not plans:
        return "[dim]no plans[/]"
    grid = Table(box=None, show_header=True, pad_edge=False, padding=(0, 3))
    grid.add_column("", style="dim", no_wrap=True)
    for plan in plans:
        grid.add_column(f"[bold]{escape(plan['name'])}[/]\n[dim]{plan['id']}[/]", justify="right", no_wrap=True)
    periods = {p["activePrice"].get("periodDays") for p in plans if p.get("activePrice")}
    grid.add_row(f"price / {periods.pop() if len(periods) == 1 else '?'} days", *(_price_now(p) for p in plans))
    for key, label in ROWS:
        grid.add_row(label, *(_amount(allowances(p).get(key)) for p in plans))
    if not all(p.get("sellableNow") for p in plans):
        grid.add_row("on sale", *("yes" if p.get("sellableNow") else "[red]no[/]" for p in plans))
    return card("Plans · compare", grid, subtitle="prices include tax")


def _adds(offering: dict[str, Any]) -> str:
    return ", ".join(f"{label} {_amount(allowances(offering).get(key))}" for key, label in ROWS
                     if key in allowances(offering)) or "—"


def _expiry(offering: dict[str, Any]) -> str:
    term = (offering.get("productOfferingTerm") or [{}])[0]
    if term.get("name") == "endOfPeriod":
        return "end of period"
    if term.get("name") == "duration":
        seconds = term["duration"]["amount"]
        return f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds} s"
    return "30-day period" if term.get("name") == "renewalPeriod" else "—"


def vas_table(offerings: list[dict[str, Any]]) -> RenderableType:
    """Value-added services: price, what each adds, when it expires."""
    items = _by_price([o for o in offerings if kind(o) == "vas"])
    if not items:
        return "[dim]no value-added services[/]"
    rows = table("id", "name", "price", "adds", "expires", title="Value-added services")
    rows.columns[0].no_wrap = rows.columns[2].no_wrap = True
    for item in items:
        rows.add_row(item["id"], escape(item["name"]), _price_now(item), _adds(item), _expiry(item))
    return rows


def _price_status(price: dict[str, Any], winner: str | None, now: dt.datetime) -> str:
    if price["id"] == winner:
        return f"[green]in force {STAR}[/]"
    if price.get("lifecycleStatus") == "Retired":
        return "[dim]ended[/]"
    start = dt.datetime.fromisoformat(price["validFor"]["startDateTime"])
    return f"[yellow]from {when(price['validFor']['startDateTime'])}[/]" if start > now else "in force"


def prices_table(prices: list[dict[str, Any]], winner: str | None, now: dt.datetime) -> Table:
    """Price versions with their windows; the one in force marked."""
    rows = table("price", "amount", "valid from", "until", "status")
    for column in rows.columns:
        column.no_wrap = True
    for price in prices:
        every = f"/{price['recurringChargePeriodLength']} d" if price.get("recurringChargePeriodLength") else " once"
        rows.add_row(price["id"], money(minor(price["price"]), price["price"]["unit"]) + every,
                     when(price["validFor"].get("startDateTime")), when(price["validFor"].get("endDateTime")),
                     _price_status(price, winner, now))
    return rows


def _until(window: dict[str, Any]) -> str:
    return when(window["endDateTime"]) if window.get("endDateTime") else "open"


def _head(offering: dict[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    window = offering.get("validFor", {})
    sale = "[green]on sale[/]" if offering.get("sellableNow") else "[red]not on sale[/]"
    lines = [("kind", kind(offering)), ("status", f"{state(LIFECYCLE.get(offering['lifecycleStatus'], '?'))}  {sale}"),
             ("price in force", _price_now(offering)),
             ("valid", f"{when(window.get('startDateTime'))} → {_until(window)}"),
             ("lasts", _expiry(offering)),
             ("categories", ", ".join(c.get("name", c["id"]) for c in offering.get("category", []))),
             ("spec", offering.get("productSpecification", {}).get("name"))]
    for label, value in lines:
        if value:
            grid.add_row(label, str(value))
    return grid


def offering_card(offering: dict[str, Any], prices: list[dict[str, Any]] | None = None,
                  now: dt.datetime | None = None) -> RenderableType:
    """One offering: status, price in force, every price version with its window, allowances."""
    now = now or clock.now()  # the business clock, shifted like the API's in scenario mode
    granted = Table.grid(padding=(0, 2))
    granted.add_column(style="dim", no_wrap=True)
    granted.add_column()
    for key, label in ROWS:
        if key in allowances(offering):
            granted.add_row(f"  {label}", _amount(allowances(offering)[key]))
    parts: list[RenderableType] = [_head(offering)]
    if offering.get("description"):
        parts.append(f"[dim]{escape(offering['description'])}[/]")
    parts += ["\n[bold]Allowances[/]", granted]
    if prices is not None:
        winner = offering.get("activePrice", {}).get("id")
        parts += ["\n[bold]Prices[/] [dim](the lowest in force wins)[/]",
                  prices_table(prices, winner, now) if prices else "[dim]  no price versions[/]"]
    return card(f"{offering['id']} · {offering['name']}", Group(*parts))


def price_card(price: dict[str, Any]) -> RenderableType:
    """A price version just created or changed."""
    window = price["validFor"]
    body = Table.grid(padding=(0, 2))
    body.add_column(style="dim")
    body.add_column()
    body.add_row("offering", price["productOffering"]["id"])
    body.add_row("amount", f"{money(minor(price['price']), price['price']['unit'])} {price['priceType']}")
    body.add_row("valid", f"{when(window.get('startDateTime'))} → {_until(window)}")
    return card(f"{price['id']} · {price['name']}", body, subtitle="the lowest price in force wins")


def migration_card(migration: dict[str, Any]) -> RenderableType:
    """A scheduled (or effective) price migration."""
    body = Table.grid(padding=(0, 2))
    body.add_column(style="dim")
    body.add_column()
    currency = migration["currency"]
    body.add_row("offering", migration["productOffering"]["id"])
    body.add_row("price", f"{money(migration['fromPrice']['priceMinor'], currency)} ({migration['fromPrice']['id']}) → "
                          f"{money(migration['toPrice']['priceMinor'], currency)} ({migration['toPrice']['id']})")
    body.add_row("notice", f"{migration['noticeDays']} days")
    body.add_row("effective", f"{when(migration['effectiveFrom'])}  {state(migration['state'])}")
    body.add_row("", "[dim]existing lines move at their first renewal on or after this date[/]")
    return card(f"price migration {migration['id']}", body)
