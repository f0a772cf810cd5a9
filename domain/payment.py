"""Payment schema: cards on file (tokenised), charge attempts and refunds, and their states.

The card number never reaches this module: rows hold the gateway token, brand, last four digits
and expiry only. Money is integer minor units plus an ISO currency.
"""

from __future__ import annotations

import datetime as _dt
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    SmallInteger,
    Table,
    Text,
    func,
    text,
)

from domain.metadata import metadata
from domain.states import StateMachine

MAX_ACTIVE_METHODS = 5


class PaymentMethodState(StrEnum):
    """Lifecycle of a card on file (SPEC §2)."""

    ACTIVE = "active"
    REMOVED = "removed"


class PaymentStatus(StrEnum):
    """Outcome of one charge attempt; `error` is retryable, the others are final."""

    APPROVED = "approved"
    DECLINED = "declined"
    ERROR = "error"


class RefundStatus(StrEnum):
    """Outcome of one refund."""

    APPROVED = "approved"
    DECLINED = "declined"


class Purpose(StrEnum):
    """Why we charged a card."""

    ACTIVATION = "activation"
    RENEWAL = "renewal"
    VAS = "vas"
    MANUAL = "manual"


PAYMENT_METHOD_MACHINE: StateMachine[PaymentMethodState] = StateMachine("payment_method", {
    (PaymentMethodState.ACTIVE, "update"): PaymentMethodState.ACTIVE,
    (PaymentMethodState.ACTIVE, "remove"): PaymentMethodState.REMOVED,
})


class ChargeIntentState(StrEnum):
    """Where a charge under one idempotency key stands, as the BSS knows it (written before the gateway is asked)."""

    OPEN = "open"            # the gateway may have been asked; its answer is not recorded yet
    SETTLED = "settled"      # an approval or decline is recorded in `payment.payment`
    ABANDONED = "abandoned"  # given up while the gateway had taken nothing: no charge may be made under the key


CHARGE_INTENT_MACHINE: StateMachine[ChargeIntentState] = StateMachine("charge_intent", {
    (ChargeIntentState.OPEN, "settle"): ChargeIntentState.SETTLED,
    (ChargeIntentState.OPEN, "abandon"): ChargeIntentState.ABANDONED,
})


class PaymentResult(BaseModel):
    """What a charge attempt came to (declines are results, not errors)."""

    payment_id: str
    status: PaymentStatus
    amount_minor: int
    currency: str
    payment_method_id: str
    idempotency_key: str
    decline_code: str | None = None
    gateway_reference: str | None = None

    @property
    def approved(self) -> bool:
        """True when the money was taken."""
        return self.status == PaymentStatus.APPROVED


class RefundResult(BaseModel):
    """What a refund came to."""

    refund_id: str
    payment_id: str
    status: RefundStatus
    amount_minor: int
    currency: str
    idempotency_key: str
    decline_code: str | None = None
    gateway_reference: str | None = None


class AbandonedCharge(BaseModel):
    """What giving up on a charge came to: nothing taken, a decline, or an approval given back."""

    idempotency_key: str
    outcome: str  # not_charged | declined | refunded | already_refunded
    payment_id: str | None = None
    refund: RefundResult | None = None


def luhn_ok(number: str) -> bool:
    """True when `number` is 12–19 ASCII digits and passes the Luhn (mod 10) check."""
    # `isdigit` alone admits other scripts' digits (full-width "４２…"), which no gateway takes.
    if not (number.isascii() and number.isdigit()) or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        digit = int(ch)
        if i % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def normalise_card_number(raw: str) -> str:
    """Drop the spaces and dashes people type between digit groups."""
    return raw.replace(" ", "").replace("-", "")


def card_expired(exp_month: int, exp_year: int, at: _dt.datetime) -> bool:
    """True when a card valid through `exp_month/exp_year` has expired at `at` (end of month counts)."""
    return (exp_year, exp_month) < (at.year, at.month)


def expiry_end(exp_month: int, exp_year: int) -> _dt.datetime:
    """The last second a card is valid: the end of its expiry month, UTC."""
    first_of_next = _dt.datetime(exp_year + exp_month // 12, exp_month % 12 + 1, 1, tzinfo=_dt.UTC)
    return first_of_next - _dt.timedelta(seconds=1)


payment_method = Table(
    "payment_method", metadata,
    Column("id", Text, primary_key=True),
    Column("customer_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("brand", Text, nullable=False),
    Column("last4", Text, nullable=False),
    Column("exp_month", SmallInteger, nullable=False),
    Column("exp_year", SmallInteger, nullable=False),
    Column("holder_name", Text),
    # Opaque gateway token: enough to charge through the gateway, useless for recovering the number.
    Column("gateway_token", Text, nullable=False),
    Column("state", Text, nullable=False, server_default=PaymentMethodState.ACTIVE.value),
    Column("is_default", Boolean, nullable=False, server_default="false"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("removed_at", DateTime(timezone=True)),
    CheckConstraint("state IN ('active', 'removed')", name="state_valid"),
    CheckConstraint("exp_month BETWEEN 1 AND 12", name="exp_month_valid"),
    CheckConstraint("last4 ~ '^[0-9]{4}$'", name="last4_digits"),
    Index("ix_payment_method_customer_id", "customer_id"),
    # At most one default among a customer's active cards; charges use it.
    Index("uq_payment_method_one_default", "customer_id", unique=True,
          postgresql_where=text("is_default AND state = 'active'")),
    schema="payment",
)

payment = Table(
    "payment", metadata,
    Column("id", Text, primary_key=True),
    Column("customer_id", Text, nullable=False),
    Column("payment_method_id", Text, nullable=False),
    Column("amount_minor", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("decline_code", Text),
    Column("idempotency_key", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("reference", Text),
    Column("gateway_reference", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint("status IN ('approved', 'declined', 'error')", name="status_valid"),
    Index("ix_payment_customer_id", "customer_id"),
    # One final outcome per idempotency key: a retried charge finds it instead of charging again.
    # `error` attempts are kept for the record but do not occupy the key, so a retry may succeed.
    Index("uq_payment_idempotency_key", "idempotency_key", unique=True,
          postgresql_where=text("status <> 'error'")),
    schema="payment",
)

# Written (committed) before the gateway is asked, and locked while it is asked: whoever gives up on a
# charge finds the key here and settles it with the gateway's own record (`activities.payment`).
charge_intent = Table(
    "charge_intent", metadata,
    Column("idempotency_key", Text, primary_key=True),
    Column("customer_id", Text, nullable=False),
    Column("payment_method_id", Text),  # none when abandoned before a card was chosen
    Column("amount_minor", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("reference", Text),
    Column("state", Text, nullable=False),
    Column("gateway_errors", SmallInteger, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint("state IN ('open', 'settled', 'abandoned')", name="state_valid"),
    Index("ix_charge_intent_open", "created_at", postgresql_where=text("state = 'open'")),
    schema="payment",
)

refund = Table(
    "refund", metadata,
    Column("id", Text, primary_key=True),
    Column("payment_id", Text, nullable=False),
    Column("customer_id", Text, nullable=False),
    Column("amount_minor", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("decline_code", Text),
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("reason", Text),
    Column("gateway_reference", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint("status IN ('approved', 'declined')", name="status_valid"),
    Index("ix_refund_payment_id", "payment_id"),
    Index("ix_refund_customer_id", "customer_id"),
    schema="payment",
)
