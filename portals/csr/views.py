"""What the CSR console's pages show, as plain values: role rules, SLA countdowns, money and dates in words.

Pure functions over API JSON (no I/O), so the pages stay thin and these are tested without a stack.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from portals.self_serve.catalog_view import money

ROLES = ("csr", "supervisor", "engineer")


@dataclass(frozen=True)
class Rule:
    """One kind of action: who may do it, and how the refusal says so."""

    roles: frozenset[str]
    words: str  # "refund a payment"
    who: str  # "supervisors"


# Who may do what (SPEC §8; the module docstring of portals/csr/console.py explains the choices).
RULES: dict[str, Rule] = {
    "care": Rule(frozenset({"csr", "supervisor"}), "work cases, tickets and interactions", "care agents and supervisors"),
    "line": Rule(frozenset({"csr", "supervisor"}), "change a customer's line", "care agents and supervisors"),
    "terminate": Rule(frozenset({"csr", "supervisor"}), "terminate a line", "care agents and supervisors"),
    "refund": Rule(frozenset({"supervisor"}), "refund a payment", "supervisors"),
    "provisioning": Rule(frozenset({"engineer", "supervisor"}), "resolve or retry a provisioning task",
                         "engineers and supervisors"),
}


def allowed(role: str | None, action: str) -> bool:
    """Whether an operator of `role` may do `action` (a key of RULES)."""
    return role in RULES[action].roles


def refusal(role: str | None, action: str) -> str:
    """The refusal in words: `Your role (csr) is not allowed to refund a payment: only supervisors may.`"""
    rule = RULES[action]
    return f"Your role ({role or 'none'}) is not allowed to {rule.words}: only {rule.who} may."


AGENT_ID = re.compile(r"^AG-[A-Z0-9-]+$")


def assignable(agent_id: str | None) -> bool:
    """Whether cases and tickets can be assigned to this staff id (the API's agent id pattern)."""
    return bool(agent_id and AGENT_ID.match(agent_id))


def parse_time(value: str | None) -> dt.datetime | None:
    """An API timestamp (ISO 8601, `Z`) as an aware datetime."""
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def span(seconds: float) -> str:
    """A duration in words, two units at most: `2 d 3 h`, `3 h 20 min`, `45 min`, `under a minute`."""
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else "under a minute"


@dataclass(frozen=True)
class Countdown:
    """An SLA deadline relative to now: its words and how urgent it is (`ok`, `soon`, `breached`, `done`)."""

    text: str
    level: str


SOON = dt.timedelta(hours=1)


def countdown(due: str | None, now: dt.datetime, breached: bool = False, done: bool = False) -> Countdown:
    """The SLA countdown of a deadline: `due in 3 h 20 min`, `overdue by 15 min`, or `met`/`no SLA`."""
    deadline = parse_time(due)
    if done:
        return Countdown("closed", "done")
    if deadline is None:
        return Countdown("no SLA", "done")
    left = (deadline - now).total_seconds()
    if left < 0 or breached:
        return Countdown(f"overdue by {span(left)}" if left < 0 else "breached", "breached")
    return Countdown(f"due in {span(left)}", "soon" if left <= SOON.total_seconds() else "ok")


def when(value: str | None) -> str:
    """A timestamp as `2026-12-07 22:10 UTC` (the API's time zone), or an em dash."""
    parsed = parse_time(value)
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if parsed else "—"


def amount(value: Any) -> int:
    """A TMF amount (`{"value": 12.5, "unit": "SGD"}` or a bare number in major units) in minor units."""
    if isinstance(value, dict):
        value = value.get("value", 0)
    return round(float(value or 0) * 100)


def price(value: Any) -> str:
    """A TMF money object in words: `SGD 25.00`."""
    if isinstance(value, dict):
        return money(amount(value), value.get("unit") or "SGD")
    return money(amount(value))


ALLOWANCE_NAMES = {"data": "Data", "voice": "Calls", "sms": "SMS", "data_roaming": "Roaming data"}


def quantity(value: int, unit: str) -> str:
    """A balance quantity in words: `29.5 GB`, `100 min`, `unlimited`."""
    if value < 0:
        return "unlimited"
    if unit == "MB":
        return f"{value / 1024:.1f} GB" if value >= 1024 else f"{value} MB"
    if unit in ("s", "seconds"):
        return f"{value // 60} min"
    return str(value)


def balance_rows(balances: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The 360 card's balances as rows: name, left of total in words, percent left (None when unlimited)."""
    rows = []
    for b in balances:
        unlimited = b["total"] < 0
        rows.append({"name": ALLOWANCE_NAMES.get(b["allowanceType"], b["allowanceType"]),
                     "left": "unlimited" if unlimited else quantity(b["remaining"], b["unit"]),
                     "total": "unlimited" if unlimited else quantity(b["total"], b["unit"]),
                     "percent": None if unlimited else b.get("remainingPercent")})
    return rows


def order_step(order: dict[str, Any]) -> str:
    """Where an order is, in words, from its TMF622 state and our step characteristic (when present)."""
    state = order.get("state", "")
    for note in order.get("note", []) or []:
        text = note.get("text", "")
        if text.startswith("step: "):
            return f"{state} ({text.removeprefix('step: ')})"
    return state


# Ticket statuses as the API's TMF621 wire names them, in our words (SPEC §2), and where each may go next.
TICKET_STATUS = {"held": "open", "inProgress": "in_progress"}
TICKET_NEXT = {"open": ("acknowledged", "cancelled"), "acknowledged": ("in_progress", "cancelled"),
               "in_progress": ("pending", "resolved", "cancelled"), "pending": ("in_progress", "resolved", "cancelled"),
               "resolved": ("in_progress", "closed")}
# Resolution codes a case is closed with from the console.
RESOLUTIONS = ("FIXED", "NO_FAULT_FOUND", "CUSTOMER_EDUCATED", "REFUNDED", "DUPLICATE", "WONT_FIX")
# Where a case may be moved from the workbench (a resolved case is closed with a resolution code).
CASE_NEXT = {"open": ("in_progress",), "in_progress": ("pending_customer", "resolved"),
             "pending_customer": ("in_progress", "resolved")}


def ticket_status(wire: str) -> str:
    """A ticket's status in our words (`held` → `open`)."""
    return TICKET_STATUS.get(wire, wire)


def workflow_order(workflow_id: str) -> str | None:
    """The order id a workflow id names (`order-ORD-000042` → `ORD-000042`), else None."""
    return workflow_id.removeprefix("order-") if workflow_id.startswith("order-ORD-") else None
