"""Cards on file and payment history, built from the TMF670/TMF676 bodies the API returns."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cli.render import style
from cli.render.style import card, money, state, table
from domain.money import Money


def card_label(method: dict[str, Any]) -> str:
    """`Visa •••• 4242` from a payment method body."""
    return style.card_label(method.get("brand"), method.get("lastFourDigits"))


def expiry(method: dict[str, Any]) -> str:
    """`12/35` from a method's `expirationDate`."""
    value = method.get("expirationDate") or ""
    return f"{value[5:7]}/{value[2:4]}" if len(value) >= 7 else "—"


def _minor(amount: dict[str, Any]) -> tuple[int, str]:
    unit = amount.get("unit", "SGD")
    return Money.from_major(str(amount.get("value", 0)), unit).amount_minor, unit


def _short_card(ref: dict[str, Any]) -> str:
    # `Visa •••• 4242` → `Visa •4242`: brand and last four, narrow enough for an 100-column history.
    return str(ref.get("name", "—")).replace("•••• ", "•")


def _when(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else "—"


def method_card(method: dict[str, Any]) -> RenderableType:
    """One card on file as a card."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    grid.add_row("card", card_label(method))
    grid.add_row("name", method.get("name", "—"))
    grid.add_row("holder", method.get("nameOnCard", "—"))
    grid.add_row("expires", expiry(method))
    grid.add_row("default", "[green]yes[/]" if method.get("isPreferred") else "no")
    grid.add_row("status", state(method.get("status", "—")))
    grid.add_row("customer", method.get("relatedParty", {}).get("id", "—"))
    return card(f"Card on file {method['id']}", grid)


def methods_table(methods: list[dict[str, Any]], customer_id: str) -> RenderableType:
    """A customer's cards on file."""
    if not methods:
        return Text(f"{customer_id} has no cards on file", style="dim")
    t = table("ID", "Card", "Name", "Expires", "Default", "Status", title=f"Cards of {customer_id}")
    for m in methods:
        t.add_row(m["id"], card_label(m), m.get("name", ""), expiry(m), "✓" if m.get("isPreferred") else "",
                  state(m.get("status", "")))
    return t


def _payment_row(p: dict[str, Any]) -> tuple[str, ...]:
    minor, unit = _minor(p["totalAmount"])
    item = (p.get("paymentItem") or [{}])[0].get("item", {}).get("id")
    status = state(p["status"]) + (f"\n[dim]{p['statusReason']}[/]" if p.get("statusReason") else "")
    return (_when(p.get("paymentDate")), p["id"], "\n".join(filter(None, [p.get("name"), item])),
            _short_card(p.get("paymentMethod", {})), money(minor, unit), status)


def _refund_row(r: dict[str, Any]) -> tuple[str, ...]:
    minor, unit = _minor(r["totalAmount"])
    what = "\n".join(filter(None, [r['payment']['id'], r.get("description")]))
    status = state(r["status"]) + (f"\n[dim]{r['statusReason']}[/]" if r.get("statusReason") else "")
    return (_when(r.get("refundDate")), r["id"], f"refund {what}", _short_card(r.get("paymentMethod", {})),
            f"−{money(minor, unit)}", status)


def history_table(history: dict[str, list[dict[str, Any]]], customer_id: str) -> RenderableType:
    """Payments and refunds of a customer in time order, with totals of what was taken and returned."""
    rows = sorted([_payment_row(p) for p in history.get("payments", [])]
                  + [_refund_row(r) for r in history.get("refunds", [])], key=lambda row: (row[0], row[1]))
    if not rows:
        return Text(f"{customer_id} has no payments yet", style="dim")
    t = table("Date (UTC)", "ID", "For", "Card", "Amount", "Status", title=f"Payments of {customer_id}")
    for column in (0, 1, 3, 4):
        t.columns[column].no_wrap = True
    t.columns[4].justify = "right"
    for row in rows:
        t.add_row(*row)
    taken: dict[str, int] = {}
    for p in history.get("payments", []):
        if p["status"] == "approved":
            minor, unit = _minor(p["totalAmount"])
            taken[unit] = taken.get(unit, 0) + minor
    for r in history.get("refunds", []):
        if r["status"] == "approved":
            minor, unit = _minor(r["totalAmount"])
            taken[unit] = taken.get(unit, 0) - minor
    totals = ", ".join(money(v, unit) for unit, v in sorted(taken.items())) or money(0)
    return Group(t, Text.from_markup(f"[bold]net collected[/] {totals}"))


def payment_card(payment: dict[str, Any]) -> RenderableType:
    """One payment (a manual charge, or one shown by id) as a card."""
    minor, unit = _minor(payment["totalAmount"])
    item = (payment.get("paymentItem") or [{}])[0].get("item", {}).get("id")
    grid = style.fields(("amount", money(minor, unit)),
                        ("status", state(payment["status"]) + (f" [dim]{payment['statusReason']}[/]"
                                                               if payment.get("statusReason") else "")),
                        ("card", _short_card(payment.get("paymentMethod", {}))),
                        ("for", "  ".join(filter(None, [payment.get("name"), item])) or "—"),
                        ("customer", payment.get("account", {}).get("id", "—")),
                        ("key", payment.get("correlatorId") or "—"), ("at (UTC)", _when(payment.get("paymentDate"))))
    return card(f"Payment {payment['id']}", grid)


def refund_card(refund: dict[str, Any]) -> RenderableType:
    """One refund as a card: what went back, of which payment, why."""
    minor, unit = _minor(refund["totalAmount"])
    grid = style.fields(("amount", f"−{money(minor, unit)}"),
                        ("status", state(refund["status"]) + (f" [dim]{refund['statusReason']}[/]"
                                                              if refund.get("statusReason") else "")),
                        ("of payment", refund.get("payment", {}).get("id", "—")),
                        ("reason", refund.get("description") or "—"),
                        ("customer", refund.get("account", {}).get("id", "—")),
                        ("at (UTC)", _when(refund.get("refundDate"))))
    return card(f"Refund {refund['id']}", grid)
