"""One box style for every card, and the small formatters cards share."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

CARD_BOX = box.ROUNDED
TABLE_BOX = box.SIMPLE_HEAD

STATE_STYLES = {
    "active": "green", "completed": "green", "available": "green", "approved": "green", "verified": "green",
    "resolved": "green", "settled": "green", "closed": "dim", "terminated": "dim", "removed": "dim", "recycled": "dim",
    "pending": "yellow", "in_progress": "yellow", "acknowledged": "yellow", "reserved": "yellow",
    "open": "yellow", "quarantine": "yellow", "running": "yellow", "pending_customer": "yellow",
    "blocked": "red", "failed": "red", "declined": "red", "stuck": "red", "suspended": "red",
    "cancelled": "red", "error": "red", "not_verified": "red", "ported_out": "red",
    # Services, usage, catalog and Temporal statuses (lower-cased) in the same palette.
    "activated": "green", "rated": "green", "designed": "dim", "retired": "dim", "continued_as_new": "dim",
    "scheduled": "yellow", "in_design": "yellow", "downloaded": "yellow",
    "rejected": "red", "canceled": "red", "timed_out": "red",
}


def card(title: str, body: RenderableType, subtitle: str | None = None) -> Panel:
    """Frame a renderable as a card with the project's box style (the title is plain text, never markup)."""
    # Titles carry names people typed (case titles, plan names): a `[tag]` in them must print as typed.
    return Panel(body, title=Text(title, style="bold"), subtitle=subtitle, box=CARD_BOX, expand=False,
                 padding=(0, 1))


def fields(*rows: tuple[str, Any]) -> Table:
    """The label/value head of a card; rows whose value is None or empty are left out."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    for label, value in rows:
        if value not in (None, ""):
            grid.add_row(label, value if isinstance(value, Text) else str(value))
    return grid


def table(*columns: str, title: str | None = None) -> Table:
    """A list table with the project's style."""
    t = Table(*columns, box=TABLE_BOX, title=title, title_justify="left", pad_edge=False)
    return t


def state(value: Any) -> str:
    """Colour a state name by what it means for the operator."""
    text = str(value)
    style = STATE_STYLES.get(text)
    return f"[{style}]{text}[/]" if style else text


def money(amount_minor: int | None, currency: str = "SGD") -> str:
    """Format integer minor units as `SGD 25.00`."""
    if amount_minor is None:
        return "—"
    return f"{currency} {amount_minor / 100:,.2f}"


def quantity(value: int | None, unit: str) -> str:
    """Format a quantity in base units (MB, seconds, count); -1 means unlimited."""
    if value is None:
        return "—"
    if value < 0:
        return "unlimited"
    if unit == "MB":
        return f"{value / 1024:g} GB" if value >= 1024 and value % 1024 == 0 else f"{value:,} MB"
    if unit == "s":
        return f"{value // 60:,} min" if value % 60 == 0 else f"{value:,} s"
    return f"{value:,} {unit}"


def readable(amount: int, unit: str) -> str:
    """A base-unit amount for people: `3.1 GB`, `54 min 30 s`, `88 SMS`."""
    if unit == "MB" and amount >= 1024:
        return f"{amount / 1024:,.2f}".rstrip("0").rstrip(".") + " GB"
    if unit == "s" and amount >= 60:
        minutes, seconds = divmod(amount, 60)
        return f"{minutes:,} min" + (f" {seconds} s" if seconds else "")
    if unit == "sms":
        return f"{amount:,} SMS"
    return quantity(amount, unit)


def bar(used: int, total: int, width: int = 20) -> str:
    """A bundle bar of what remains: `█████░░░░░ 50%` (unlimited shows ∞)."""
    if total < 0:
        return "∞ unlimited"
    if total == 0:
        return "░" * width + "   0%"
    remaining = max(total - used, 0)
    filled = round(width * remaining / total)
    pct = round(100 * remaining / total)
    colour = "green" if pct > 20 else "yellow" if pct > 0 else "red"
    return f"[{colour}]{'█' * filled}[/]{'░' * (width - filled)} {pct:3d}%"


def card_label(brand: str | None, last4: str | None) -> str:
    """A payment card as people may see it: brand and last four digits, `Visa •••• 4242`."""
    return f"{brand or 'Card'} •••• {last4 or '????'}"


def mask(value: str | None, keep: int = 4) -> str:
    """Mask personal data, keeping the last `keep` characters."""
    if not value:
        return "—"
    return "•" * max(len(value) - keep, 0) + value[-keep:]
