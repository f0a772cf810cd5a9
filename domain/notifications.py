"""Customer notifications: which audit event makes which mail, keyed so each is decided once. Pure.

The notifier reads `audit.domain_event` rows (SPEC §10) and asks `decide` what each means to a
customer. A notice names its kind, its idempotency key and the facts the event carries; the
activity adds what the database knows (address, eSIM, card) and renders the kind's template.
Keys: `<event id>:<kind>` for one-off events; a bundle alert is keyed by line, allowance, period and
threshold instead, so it goes once per period whatever events cross it; a price change fans out to
every line on the offering, keyed by migration and line (a line ordered before it applies hears of it
with its order, under the same key).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Index, Table, Text

from domain.metadata import metadata
from domain.money import MINOR_UNITS
from domain.subscription_ops import BlockReason

notification = Table(
    "notification", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("customer_id", Text, nullable=False),
    Column("recipient", Text),  # none when the customer has no live email: the interaction still records it
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("interaction_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Index("uq_notification_key", "key", unique=True),
    Index("ix_notification_customer_id", "customer_id"),
    schema="crm",
)


class NotificationKind(StrEnum):
    """What a customer is told about; each kind has its template."""

    ORDER_COMPLETED = "order_completed"
    BUNDLE_USED = "bundle_used"
    LINE_BLOCKED = "line_blocked"
    LINE_UNBLOCKED = "line_unblocked"
    RENEWAL_REMINDER = "renewal_reminder"
    RENEWED = "renewed"
    RENEWAL_DECLINED = "renewal_declined"
    PRICE_CHANGE = "price_change"


THRESHOLDS = (80, 100)  # percent of a bundle used that the customer hears about
UNITS = {"data": "MB", "data_roaming": "MB", "voice": "seconds", "sms": "SMS"}
# What lifts a block, in the customer's words (SPEC §2: only a paid renewal lifts an unpaid period).
BLOCK_ADVICE = {
    BlockReason.DATA_EXHAUSTED.value: "buy a data top-up, or wait for your next renewal to reset the bundle",
    BlockReason.RENEWAL_DECLINED.value: "update your card and renew the line; the block lifts once it is paid",
}


@dataclass(frozen=True)
class Notice:
    """One notification decided from one audit event: kind, key, the line or order, and the event's facts."""

    kind: NotificationKind
    key: str
    event_id: int
    subject_id: str  # the subscription (or, for a price change, the migration; for an order, the order)
    facts: dict[str, Any] = field(default_factory=dict)


def decide(row: dict[str, Any]) -> list[Notice]:
    """The notices one audit event makes (none for most events)."""
    kind = _kind(row)
    if kind is None:
        return []
    event_id, payload, ident = int(row["id"]), _payload(row), row["aggregate_id"]
    if kind is NotificationKind.BUNDLE_USED:
        return _bundle(event_id, payload)
    if kind is NotificationKind.RENEWAL_REMINDER:  # one per period, whatever recorded it how often
        return [Notice(kind, f"{ident}:{payload.get('periodNumber')}:{kind.value}", event_id, ident, dict(payload))]
    facts = dict(payload)
    if kind in (NotificationKind.LINE_BLOCKED, NotificationKind.RENEWAL_DECLINED):
        facts["blockReason"] = _block_reason(row["event_type"], payload)
    return [Notice(kind, f"{event_id}:{kind.value}", event_id, ident, facts)]


def _block_reason(event: str, payload: dict[str, Any]) -> str | None:
    # A block records the reason; a changed reason records it as `to` (a block's `to` is the state).
    return payload.get("to") if event == "subscription.block_reason_changed" else payload.get("reason")


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    payload = row.get("payload") or {}
    return json.loads(payload) if isinstance(payload, str) else payload  # JSONB as text from a raw driver


def _kind(row: dict[str, Any]) -> NotificationKind | None:
    event, payload = row["event_type"], _payload(row)
    if event == "subscription.blocked" or (event == "subscription.block_reason_changed"
                                           and payload.get("to") == BlockReason.RENEWAL_DECLINED.value):
        declined = _block_reason(event, payload) == BlockReason.RENEWAL_DECLINED.value
        return NotificationKind.RENEWAL_DECLINED if declined else NotificationKind.LINE_BLOCKED
    return {
        "order.completed": NotificationKind.ORDER_COMPLETED,
        "usage.rated": NotificationKind.BUNDLE_USED,
        "subscription.unblocked": NotificationKind.LINE_UNBLOCKED,
        "subscription.renewed": NotificationKind.RENEWED,
        "subscription.renewal_reminder_due": NotificationKind.RENEWAL_REMINDER,
        "catalog.price_migration.created": NotificationKind.PRICE_CHANGE,
    }.get(event)


def _bundle(event_id: int, payload: dict[str, Any]) -> list[Notice]:
    """The highest threshold this one charge crossed on a finite bundle (an older payload: none)."""
    total, charged, after = payload.get("total"), payload.get("charged") or 0, payload.get("after")
    if total is None or after is None or total <= 0 or charged <= 0 or payload.get("period") is None:
        return []
    used_after = total - after
    crossed = [p for p in THRESHOLDS if used_after - charged < threshold(total, p) <= used_after]
    if not crossed:
        return []
    percent, sub, allowance = crossed[-1], payload["sub"], payload["allowance"]
    key = f"{sub}:{allowance}:{payload['period']}:{percent}:{NotificationKind.BUNDLE_USED.value}"
    return [Notice(NotificationKind.BUNDLE_USED, key, event_id, sub,
                   {**payload, "percent": percent, "used": used_after, "unit": UNITS.get(allowance, "")})]


def threshold(total: int, percent: int) -> int:
    """The smallest use that reaches `percent` of `total` (integer arithmetic: exact)."""
    return -(-total * percent // 100)


def amount(amount_minor: int, currency: str) -> str:
    """Integer minor units as `SGD 1,234.50`, exactly (no float on the way)."""
    digits = MINOR_UNITS.get(currency, 2)
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(amount_minor), 10 ** digits)
    return f"{currency} {sign}{major:,}" + (f".{minor:0{digits}d}" if digits else "")


def day(at: dt.datetime | str) -> str:
    """A date as the customer reads it (UTC, ISO)."""
    value = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
    return value.astimezone(dt.UTC).date().isoformat()


def first_renewal_from(period_end: dt.datetime, period_days: int, effective: dt.datetime) -> dt.datetime:
    """The first renewal of a line at or after `effective`: the one that pays the new price."""
    if period_end >= effective:
        return period_end
    periods = -(-(effective - period_end) // dt.timedelta(days=period_days))
    return period_end + dt.timedelta(days=period_days * periods)
