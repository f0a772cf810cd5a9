"""Bill cards from TMF678 bodies: the bill with its lines and payment, and the bill list."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cli.render.style import card, money, state, table
from domain.money import Money

KIND_LABELS = {"activation": "activation", "renewal": "renewal", "vas": "add-on", "planChange": "plan change"}
RATE_LABELS = {"recurringCharge": "recurring", "oneTimeCharge": "one-time"}


def _minor(amount: dict[str, Any] | None) -> tuple[int, str]:
    amount = amount or {}
    unit = amount.get("unit", "SGD")
    return Money.from_major(str(amount.get("value", 0)), unit).amount_minor, unit


def _amount(amount: dict[str, Any] | None) -> str:
    return money(*_minor(amount))


def _date(value: str | None, with_time: bool = False) -> str:
    if not value:
        return "—"
    return value.replace("T", " ")[:16] if with_time else value[:10]


def _period(period: dict[str, Any] | None) -> str:
    period = period or {}
    return f"{_date(period.get('startDateTime'))} → {_date(period.get('endDateTime'))}"


def _payment_id(bill: dict[str, Any]) -> str:
    payments = bill.get("appliedPayment") or []
    return payments[0]["payment"]["id"] if payments else "—"


def _paid_by(bill: dict[str, Any]) -> str:
    method = bill.get("paymentMethod", {}).get("name")
    return _payment_id(bill) + (f" · {method}" if method else "")


def _subscription(rates: list[dict[str, Any]]) -> str:
    lines = sorted({r.get("product", {}).get("id") for r in rates} - {None})
    return ", ".join(lines) or "—"


def bill_card(bill: dict[str, Any], rates: list[dict[str, Any]]) -> RenderableType:
    """One bill: who, what for, the period, each line, the total and the payment that settled it."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    grid.add_row("state", state(bill.get("state", "—")))
    grid.add_row("customer", bill.get("billingAccount", {}).get("id", "—"))
    grid.add_row("line", _subscription(rates))
    grid.add_row("for", KIND_LABELS.get(bill.get("category", ""), bill.get("category", "—")))
    grid.add_row("period", _period(bill.get("billingPeriod")))
    grid.add_row("issued", f"{_date(bill.get('billDate'), True)} UTC")
    lines = table("Line", "Item", "Type", "Amount")
    lines.columns[0].no_wrap = True
    lines.columns[3].justify = "right"
    for rate in rates:
        lines.add_row(rate["id"], escape(rate.get("description") or rate.get("name", "")),
                      RATE_LABELS.get(rate.get("type", ""), rate.get("type", "")), _amount(rate.get("taxIncludedAmount")))
    footer = Table.grid(padding=(0, 2))
    footer.add_column(style="bold", no_wrap=True)
    footer.add_column()
    footer.add_row("total", f"{_amount(bill.get('amountDue'))} [dim](tax incl.)[/]")
    footer.add_row("paid", escape(_paid_by(bill)))
    return card(f"bill {bill['id']}", Group(grid, lines, footer))


def bills_table(bills: list[dict[str, Any]], title: str = "Bills") -> RenderableType:
    """Bills newest first: date, what for, end of the period covered, amount, payment (and state unless all settled)."""
    if not bills:
        return Text("no bills", style="dim")
    with_state = any(bill.get("state") != "settled" for bill in bills)
    t = table("Bill", "Date", "For", "Until", "Amount", "Payment", *(["State"] if with_state else []), title=title)
    t.collapse_padding = True  # up to seven columns in 80: one space between columns, not two
    for column in (0, 1, 3, 4, 5):  # ids, dates and money stay whole; narrow terminals squeeze the words instead
        t.columns[column].no_wrap = True
        t.columns[column].overflow = "fold"
    t.columns[4].justify = "right"
    for bill in bills:
        t.add_row(bill["id"], _date(bill.get("billDate")), KIND_LABELS.get(bill.get("category", ""), "—"),
                  _date((bill.get("billingPeriod") or {}).get("endDateTime")), _amount(bill.get("amountDue")),
                  _payment_id(bill), *([state(bill.get("state", "—"))] if with_state else []))
    totals: dict[str, int] = {}
    for bill in bills:
        minor, unit = _minor(bill.get("amountDue"))
        totals[unit] = totals.get(unit, 0) + minor
    summary = ", ".join(money(v, unit) for unit, v in sorted(totals.items()))
    return Group(t, Text.from_markup(f"[bold]{len(bills)} bill{'s' if len(bills) != 1 else ''}[/], {summary}"))
