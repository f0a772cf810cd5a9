"""Mediation schema: one row per usage event received from the network, rated or rejected.

A row is mediation data, not a balance: rejected events (unknown number, line not active, no
balance left) are kept too, so every event the network sent has an audit trail. `event_id` is
the network's own id and unique: a replayed event can never be rated twice.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, DateTime, Index, Table, Text, false, func

from domain.metadata import metadata


class UsageType(StrEnum):
    """What the network measured; quantities in the type's base unit."""

    DATA = "data"    # MB
    VOICE = "voice"  # seconds
    SMS = "sms"      # count


class UsageStatus(StrEnum):
    """Outcome of mediation (TMF635 `UsageStatusType` values `rated` and `rejected`)."""

    RATED = "rated"
    REJECTED = "rejected"


USAGE_UNITS = {UsageType.DATA: "MB", UsageType.VOICE: "s", UsageType.SMS: "sms"}

usage_record = Table(
    "usage_record", metadata,
    Column("id", Text, primary_key=True),
    Column("event_id", Text, nullable=False, unique=True),
    Column("msisdn", Text, nullable=False),
    Column("subscription_id", Text),   # null when the number had no live line
    Column("customer_id", Text),
    Column("usage_type", Text, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("roaming", Boolean, nullable=False, server_default=false()),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("status", Text, nullable=False),
    Column("reject_code", Text),
    Column("rated_allowance", Text),
    # What the bundle paid for; less than `quantity` when the event ran the allowance to zero.
    Column("charged_quantity", BigInteger, nullable=False, server_default="0"),
    Column("balance_after", BigInteger),  # -1 = unlimited
    Column("blocked_line", Boolean, nullable=False, server_default=false()),
    CheckConstraint("usage_type IN ('data', 'voice', 'sms')", name="usage_type_known"),
    CheckConstraint("status IN ('rated', 'rejected')", name="status_known"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("charged_quantity >= 0 AND charged_quantity <= quantity", name="charged_within_quantity"),
    CheckConstraint("(status = 'rejected') = (reject_code IS NOT NULL)", name="rejected_with_code"),
    CheckConstraint("(status = 'rated') = (charged_quantity > 0)", name="rated_iff_charged"),
    Index("ix_usage_record_msisdn", "msisdn", "received_at"),
    Index("ix_usage_record_subscription_id", "subscription_id", "received_at"),
    schema="mediation",
)

# TMF635 usage specifications an operator adds (migration 0024); the built-in data/voice/SMS ones
# are code (`apis/tmf635_usage.py`). Each says which usage type its events are rated as.
usage_specification = Table(
    "usage_specification", metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("description", Text),
    Column("usage_type", Text, nullable=False),
    Column("version", Text),
    Column("lifecycle_status", Text, nullable=False, server_default="active"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("usage_type IN ('data', 'voice', 'sms')", name="usage_type_known"),
    schema="mediation",
)
