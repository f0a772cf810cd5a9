"""Subscription schema: one row per line, its bundle balances, and the line state machine."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    BigInteger, CheckConstraint, Column, DateTime, Index, Integer, PrimaryKeyConstraint, Table, Text, func, text,
)

from domain.metadata import metadata
from domain.states import StateMachine


class SubscriptionState(StrEnum):
    """Lifecycle of a line (SPEC §2)."""

    PENDING = "pending"
    ACTIVE = "active"
    BLOCKED = "blocked"
    TERMINATED = "terminated"


LIVE_STATES = (SubscriptionState.PENDING, SubscriptionState.ACTIVE, SubscriptionState.BLOCKED)


class AllowanceType(StrEnum):
    """What a bundle counts, each in its base unit."""

    DATA = "data"                  # MB
    VOICE = "voice"                # seconds
    SMS = "sms"                    # count
    DATA_ROAMING = "data_roaming"  # MB


ALLOWANCE_UNITS = {AllowanceType.DATA: "MB", AllowanceType.VOICE: "s", AllowanceType.SMS: "sms",
                   AllowanceType.DATA_ROAMING: "MB"}
UNLIMITED = -1

SUBSCRIPTION_MACHINE: StateMachine[SubscriptionState] = StateMachine("subscription", {
    (SubscriptionState.PENDING, "activate"): SubscriptionState.ACTIVE,
    (SubscriptionState.PENDING, "terminate"): SubscriptionState.TERMINATED,
    (SubscriptionState.ACTIVE, "block"): SubscriptionState.BLOCKED,
    (SubscriptionState.BLOCKED, "unblock"): SubscriptionState.ACTIVE,
    (SubscriptionState.ACTIVE, "terminate"): SubscriptionState.TERMINATED,
    (SubscriptionState.BLOCKED, "terminate"): SubscriptionState.TERMINATED,
})

subscription = Table(
    "subscription", metadata,
    Column("id", Text, primary_key=True),
    Column("customer_id", Text, nullable=False),
    Column("order_id", Text, unique=True),
    Column("offering_id", Text, nullable=False),
    Column("msisdn", Text, nullable=False),
    Column("iccid", Text),
    Column("state", Text, nullable=False, server_default=SubscriptionState.PENDING.value),
    Column("blocked_reason", Text),
    # The price is snapshotted at order time; renewals charge the snapshot, never the catalog.
    Column("price_minor", Integer, nullable=False),
    Column("currency", Text, nullable=False, server_default="SGD"),
    Column("period_days", Integer, nullable=False, server_default="30"),
    Column("period_number", Integer, nullable=False, server_default="1"),
    Column("current_period_start", DateTime(timezone=True)),
    Column("current_period_end", DateTime(timezone=True)),
    Column("pending_offering_id", Text),
    Column("pending_price_minor", Integer),
    Column("activated_at", DateTime(timezone=True)),
    Column("terminated_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("price_minor >= 0", name="price_non_negative"),
    Index("ix_subscription_customer_id", "customer_id"),
    # A number belongs to at most one live line; terminated lines keep their history.
    Index("uq_subscription_live_msisdn", "msisdn", unique=True,
          postgresql_where=text("state IN ('pending', 'active', 'blocked')")),
    schema="subscription",
)

bundle_balance = Table(
    "bundle_balance", metadata,
    Column("subscription_id", Text, nullable=False),
    Column("allowance_type", Text, nullable=False),
    Column("total", BigInteger, nullable=False),       # base units; -1 = unlimited
    Column("consumed", BigInteger, nullable=False, server_default="0"),
    Column("period_start", DateTime(timezone=True), nullable=False),
    Column("period_end", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("subscription_id", "allowance_type", name="pk_bundle_balance"),
    CheckConstraint("consumed >= 0", name="consumed_non_negative"),
    CheckConstraint("total = -1 OR consumed <= total", name="consumed_within_total"),
    schema="subscription",
)


def remaining(total: int, consumed: int) -> int:
    """What is left of an allowance in base units (-1 when unlimited)."""
    return UNLIMITED if total == UNLIMITED else max(total - consumed, 0)
