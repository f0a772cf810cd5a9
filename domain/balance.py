"""Balance adjustments (TMF654 `adjustBalance`): an operator's credit or debit to one bucket of a line.

An adjustment counts for the bundle period it was made in (`period_start` is that period's start): a
line's bucket total is its plan plus its live VAS grants plus this period's adjustments, and a renewal
starts the next period without them. `quantity` is signed, in the bucket's base unit (MB, s, sms).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    Table,
    Text,
    UniqueConstraint,
)

from domain.metadata import metadata

ADJUSTMENT_PREFIX = "ADJ-"

balance_adjustment = Table(
    "balance_adjustment", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    # `tmf654-adjust:<Idempotency-Key>` (or a fresh uuid): a retried POST finds its adjustment.
    Column("idempotency_key", Text, nullable=False),
    Column("subscription_id", Text, nullable=False),
    Column("allowance_type", Text, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("period_start", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    Column("description", Text),
    Column("requested_by", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("quantity <> 0", name="quantity_non_zero"),
    UniqueConstraint("idempotency_key", name="uq_balance_adjustment_idempotency_key"),
    Index("ix_balance_adjustment_subscription_id", "subscription_id", "period_start"),
    schema="subscription",
)


def adjustment_id(number: int) -> str:
    """The TMF id of adjustment `number` (`ADJ-12`)."""
    return f"{ADJUSTMENT_PREFIX}{number}"
