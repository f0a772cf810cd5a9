"""Subscription lifecycle tables: VAS grants, paid renewals and the price version each line pays.

Each row is keyed by the business key of the write that made it (`sub-{id}:vas:{request}`,
`sub-{id}:renewal:{n}`), held under a unique constraint, so a retried activity finds the row
instead of adding a second one. A payment pays for exactly one grant or one renewal (unique
`payment_id`), so replaying an old request can never grant or renew twice off one charge.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Index, Integer, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB

from domain.metadata import metadata


class BlockReason(StrEnum):
    """Why a line is blocked; only some reasons may be lifted by a data top-up."""

    DATA_EXHAUSTED = "data_exhausted"      # set by rating, in the usage transaction
    RENEWAL_DECLINED = "renewal_declined"  # the period was not paid: only a paid renewal lifts it


class RenewalKind(StrEnum):
    """What started a renewal: the period timer or a customer's explicit renew."""

    SCHEDULED = "scheduled"
    EXPLICIT = "explicit"


vas_grant = Table(
    "vas_grant", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("subscription_id", Text, nullable=False),
    Column("offering_id", Text, nullable=False),
    Column("request_id", Text, nullable=False),
    Column("payment_id", Text, nullable=False, unique=True),
    Column("price_minor", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("allowances", JSONB, nullable=False),             # {"data": 1024}; -1 = unlimited
    Column("expiry", Text, nullable=False),                  # end_of_period | duration
    Column("period_number", Integer, nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # For an unlimited data pass: data consumed when it started, so usage during it is free.
    Column("data_consumed_at_grant", BigInteger),
    Column("expired_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("price_minor >= 0", name="price_non_negative"),
    CheckConstraint("expires_at > granted_at", name="expires_after_grant"),
    CheckConstraint("expiry IN ('end_of_period', 'duration')", name="expiry_known"),
    Index("ix_vas_grant_subscription_id", "subscription_id"),
    schema="subscription",
)

renewal = Table(
    "renewal", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("subscription_id", Text, nullable=False),
    Column("period_number", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("offering_id", Text, nullable=False),
    Column("previous_offering_id", Text, nullable=False),
    Column("price_id", Text),
    Column("price_minor", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("migration_id", Text),
    Column("payment_id", Text, nullable=False, unique=True),
    Column("period_start", DateTime(timezone=True), nullable=False),
    Column("period_end", DateTime(timezone=True), nullable=False),
    Column("renewed_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("kind IN ('scheduled', 'explicit')", name="kind_known"),
    CheckConstraint("period_number > 1", name="period_after_first"),
    CheckConstraint("period_end > period_start", name="period_ordered"),
    Index("ix_renewal_subscription_id", "subscription_id"),
    schema="subscription",
)

# The catalog price version a line pays now and the one its scheduled plan change will pay;
# a line without a row pays the version its order snapshotted (`ordering.product_order`).
line_price = Table(
    "line_price", metadata,
    Column("subscription_id", Text, primary_key=True),
    Column("price_id", Text),
    Column("pending_price_id", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    schema="subscription",
)
