"""Subscription cards from the TMF637 product and TMF654 buckets: the line card with bundle bars, and the list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cli.render.style import bar, card, fields, money, readable, state, table
from domain.money import Money

ALLOWANCE_LABELS = {"data": "Data", "voice": "Voice", "sms": "SMS", "data_roaming": "Roaming"}


def characteristics(product: dict[str, Any]) -> dict[str, Any]:
    """A product's characteristics as `{name: value}`."""
    return {c["name"]: c.get("value") for c in product.get("productCharacteristic", [])}


def line_state(product: dict[str, Any]) -> str:
    """Our exact line state (the `subscriptionState` characteristic), else the TMF status."""
    return str(characteristics(product).get("subscriptionState") or product.get("status", "—"))


def _date(value: str | None) -> str:
    return value[:10] if value else "—"


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def days_left(period_end: str | None, now: dt.datetime) -> str:
    """`12 days left`, `< 1 day left` or `renewal due` until the end of the period."""
    if not period_end:
        return ""
    left = _parse(period_end) - now
    if left <= dt.timedelta(0):
        return "renewal due"
    if left.days == 0:
        return "< 1 day left"
    return f"{left.days} day{'s' if left.days != 1 else ''} left"


def _price(value: dict[str, Any] | None) -> str:
    if not value:
        return "—"
    return Money.from_major(str(value.get("value", 0)), value.get("unit", "SGD")).format()


def allowance_row(label: str, used: int, total: int, left: int, unit: str) -> tuple[str, str, str]:
    """One bundle bar row: label, the bar of what remains, and left / total / used (total -1 is unlimited)."""
    if total < 0:
        return label, bar(used, -1), f"[dim]{readable(used, unit)} used[/]"
    if total == 0 and used == 0:
        return label, "[dim]—[/]", "[dim]not in the plan[/]"
    return (label, bar(used, total),
            f"{readable(left, unit)} left of {readable(total, unit)} [dim]· {readable(used, unit)} used[/]")


def _bucket_row(bucket: dict[str, Any]) -> tuple[str, str, str]:
    label = ALLOWANCE_LABELS.get(bucket.get("allowanceType", ""), bucket.get("name", "?"))
    consumed = bucket.get("consumedValue", {})
    unit, used = consumed.get("units", ""), int(consumed.get("amount", 0))
    total = -1 if bucket.get("unlimited") else int(bucket.get("totalValue", {}).get("amount", 0))
    return allowance_row(label, used, total, int(bucket.get("remainingValue", {}).get("amount", 0)), unit)


def bars(rows: list[tuple[str, str, str]]) -> Table:
    """Bundle bar rows as a grid that never wraps (the bars line up)."""
    grid = Table.grid(padding=(0, 2))
    for _ in range(3):
        grid.add_column(no_wrap=True)
    for row in rows:
        grid.add_row(*row)
    return grid


def bundlebars(buckets: list[dict[str, Any]]) -> RenderableType:
    """One bar per allowance: what remains, with left / total / used in readable units."""
    if not buckets:
        return Text("no balances", style="dim")
    return bars([_bucket_row(bucket) for bucket in buckets])


def _pending(change: dict[str, Any] | None) -> str | None:
    if not change:
        return None
    offering = change.get("productOffering", {})
    name = f"{offering.get('name') or offering.get('id')} ({offering.get('id')})"
    price = f" at {_price(change['price'])}" if change.get("price") else ""
    return f"[yellow]→ {escape(name)}{price} from the next renewal[/]"


def subscription_card(product: dict[str, Any], buckets: list[dict[str, Any]], now: dt.datetime) -> RenderableType:
    """The line card: state, plan, snapshot price, number, period and one bundle bar per allowance."""
    chars = characteristics(product)
    current = line_state(product)
    status = state(current)
    if chars.get("blockedReason"):
        status += f" [red]⚠ {escape(str(chars['blockedReason']))}[/]"
    offering = product.get("productOffering", {})
    price = (product.get("productPrice") or [{}])[0]
    period = f"#{chars.get('periodNumber', '?')} · {_date(chars.get('periodStart'))} → {_date(chars.get('periodEnd'))}"
    if current in ("active", "blocked"):
        period += f" · [bold]{days_left(chars.get('periodEnd'), now)}[/]"
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    rows = [
        ("state", status),
        ("plan", f"{escape(offering.get('name') or '—')} ({offering.get('id', '—')})"),
        ("price", (f"{_price(price.get('price', {}).get('taxIncludedAmount'))} / "
                   f"{price.get('recurringChargePeriod', 'period')} [dim](snapshot)[/]")),
        ("msisdn", chars.get("msisdn", "—")),
        ("customer", (product.get("relatedParty") or [{}])[0].get("id", "—")),
        ("period", period),
        ("pending", _pending(chars.get("pendingPlanChange"))),
        ("since", _date(product.get("startDate"))),
        ("ended", _date(product.get("terminationDate")) if product.get("terminationDate") else None),
    ]
    for label, value in rows:
        if value:
            grid.add_row(label, value)
    return card(f"subscription {product['id']}", Group(grid, "", bundlebars(buckets)))


def subscriptions_table(products: list[dict[str, Any]], title: str = "Subscriptions",
                        show_customer: bool = True) -> RenderableType:
    """Lines as a table: id, number, plan, state, snapshot price and period end (and customer when mixed)."""
    if not products:
        return Text("no subscriptions", style="dim")
    columns = ["ID", "MSISDN", "Plan", "State", "Price", "Period ends"] + (["Customer"] if show_customer else [])
    t = table(*columns, title=title)
    for column in t.columns:  # ids stay whole (folded, never elided) on narrow terminals
        column.no_wrap = True
        column.overflow = "fold"
    for p in products:
        chars = characteristics(p)
        price = (p.get("productPrice") or [{}])[0].get("price", {}).get("taxIncludedAmount")
        current = line_state(p)
        plan = p.get("productOffering", {}).get("id", "—")
        if chars.get("pendingPlanChange"):
            plan += f" [yellow]→ {chars['pendingPlanChange']['productOffering']['id']}[/]"
        ends = _date(chars.get("periodEnd")) if current != "terminated" else "—"
        row = [p["id"], chars.get("msisdn", "—"), plan, state(current), _price(price), ends]
        t.add_row(*row, *([(p.get("relatedParty") or [{}])[0].get("id", "—")] if show_customer else []))
    return t


def line_change_card(line: dict[str, Any], headline: str | None = None) -> RenderableType:
    """The line after a write (VAS, renewal, plan change, termination): what happened, state, plan, bars."""
    status = state(line["state"])
    if line.get("blockedReason"):
        status += f" [red]⚠ {escape(line['blockedReason'])}[/]"
    pending = line.get("pendingPlanChange")
    head = fields(
        ("state", status),
        ("plan", f"{line['offeringId']}  {money(line['priceMinor'], line['currency'])}"),
        ("period", f"#{line['periodNumber']} · {_date(line.get('periodStart'))} → {_date(line.get('periodEnd'))}"),
        ("next plan", f"[yellow]→ {pending['offeringId']}  {money(pending['priceMinor'], line['currency'])}"
                      f" from {_date(pending.get('effectiveAt'))}[/]" if pending else None),
        ("ended", _date(line["terminatedAt"]) if line.get("terminatedAt") else None),
    )
    rows = [allowance_row(ALLOWANCE_LABELS.get(b["allowanceType"], b["allowanceType"]), b["consumed"], b["total"],
                          b["remaining"], b["unit"]) for b in line.get("balances", [])]
    parts: list[RenderableType] = [Text.from_markup(headline), Text("")] if headline else []
    parts += [head, Text(""), bars(rows) if rows else Text("no balances", style="dim")]
    return card(f"subscription {line['id']}", Group(*parts))
