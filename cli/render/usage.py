"""Usage events as a card and a history table, built from the TMF635 bodies the API returns."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from cli.render.style import card, quantity, state, table

CODE_PREFIX = "usage.record."
# Short readings of the refusal codes for an 80-column history (`--json` keeps the codes).
REFUSALS = {"unknown_msisdn": "unknown number", "subscription_not_active": "line not active",
            "roaming_balance_required": "no roaming balance", "balance_exhausted": "allowance used up"}


def characteristic(usage: dict[str, Any], name: str) -> Any:
    """The value of one `usageCharacteristic` (None when absent)."""
    return next((c.get("value") for c in usage.get("usageCharacteristic", []) if c.get("name") == name), None)


def _rated(usage: dict[str, Any]) -> dict[str, Any]:
    return (usage.get("ratedProductUsage") or [{}])[0]


def _left(rated: dict[str, Any], unit: str) -> str:
    if rated.get("unlimited"):
        return "unlimited"
    after = rated.get("balanceAfter")
    return quantity(after["amount"], unit) if after else "—"


def _what(usage: dict[str, Any]) -> str:
    roaming = " roaming" if characteristic(usage, "roaming") else ""
    return f"{usage.get('usageType', '?')}{roaming}"


def usage_card(usage: dict[str, Any]) -> RenderableType:
    """One rated usage event as a card (refusals are shown by the error panel)."""
    unit = characteristic(usage, "unit") or ""
    rated = _rated(usage)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    grid.add_row("number", str(characteristic(usage, "msisdn")))
    grid.add_row("line", str(rated.get("productRef", {}).get("id", "—")))
    grid.add_row("event", f"{_what(usage)}, {quantity(characteristic(usage, 'quantity'), unit)}")
    grid.add_row("event id", str(characteristic(usage, "eventId")))
    grid.add_row("status", state(usage.get("status", "—")))
    if rated:
        charged = rated.get("chargedQuantity", {}).get("amount")
        grid.add_row("charged", f"{quantity(charged, unit)} from {rated.get('bucket', '—')}")
        grid.add_row("left", _left(rated, unit))
        if rated.get("lineBlocked"):
            grid.add_row("line", "[red]⚠ blocked: data exhausted[/]")
    return card(f"Usage {usage['id']}", grid)


def history_table(items: list[dict[str, Any]], subject: str) -> RenderableType:
    """Usage events of a number or line, newest first."""
    if not items:
        return Text(f"no usage recorded for {subject}", style="dim")
    t = table("When", "ID", "Event", "Charged", "Left", "Status", title=f"Usage of {subject}")
    for column in (t.columns[1], t.columns[-1]):
        column.no_wrap = True  # ids and refusals read whole; the time and event columns wrap instead
    for usage in items:
        unit = characteristic(usage, "unit") or ""
        rated = _rated(usage)
        if usage.get("status") == "rejected":
            code = str(characteristic(usage, "rejectCode") or "").removeprefix(CODE_PREFIX)
            status = f"{state('rejected')}\n[dim]{REFUSALS.get(code, code)}[/]"
            charged, left = "—", "—"
        else:
            status = state(usage.get("status", "")) + ("\n[red]⚠ blocked[/]" if rated.get("lineBlocked") else "")
            charged = quantity(rated.get("chargedQuantity", {}).get("amount"), unit)
            left = _left(rated, unit)
        when = (usage.get("usageDate") or "")[5:19].replace("T", " ")  # MM-DD hh:mm:ss keeps 80 columns
        t.add_row(when, usage["id"], f"{_what(usage)} {quantity(characteristic(usage, 'quantity'), unit)}", charged,
                  left, status)
    return t
