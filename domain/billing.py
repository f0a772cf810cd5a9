"""Billing schema (TMF678): one customer bill per charge, its applied billing rates, and the I/O of issuing one.

Prepaid: a bill is issued after its charge was taken, so it is born `settled`; refunds move it to
`partially_refunded` / `refunded`. Money is integer minor units plus an ISO currency; a bill's
`amount_minor` is the sum of its lines.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy import Boolean, CheckConstraint, Column, DateTime, Index, Integer, Table, Text, func, text

from domain.metadata import metadata
from domain.states import StateMachine


class BillKind(StrEnum):
    """What a bill charges for."""

    ACTIVATION = "activation"
    RENEWAL = "renewal"
    VAS = "vas"
    PLAN_CHANGE = "plan_change"
    ON_DEMAND = "on_demand"  # a charge billed on request (TMF678 customerBillOnDemand)


class BillState(StrEnum):
    """Lifecycle of a prepaid bill: paid at issue, then possibly refunded."""

    SETTLED = "settled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class RateType(StrEnum):
    """How a line is charged (the catalog's price types; `oneTime` is accepted as the wire spelling)."""

    RECURRING = "recurring"
    ONE_TIME = "one_time"


BILL_MACHINE: StateMachine[BillState] = StateMachine("bill", {
    (BillState.SETTLED, "refund_part"): BillState.PARTIALLY_REFUNDED,
    (BillState.PARTIALLY_REFUNDED, "refund_part"): BillState.PARTIALLY_REFUNDED,
    (BillState.SETTLED, "refund_all"): BillState.REFUNDED,
    (BillState.PARTIALLY_REFUNDED, "refund_all"): BillState.REFUNDED,
})

customer_bill = Table(
    "customer_bill", metadata,
    Column("id", Text, primary_key=True),
    Column("customer_id", Text, nullable=False),
    Column("subscription_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("period_start", DateTime(timezone=True), nullable=False),
    Column("period_end", DateTime(timezone=True), nullable=False),
    Column("amount_minor", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("payment_id", Text),
    Column("state", Text, nullable=False, server_default=BillState.SETTLED.value),
    # The caller's business key (`order-ORD-…:bill`, `sub-SUB-…:renewal:3`): a retried issue finds its bill.
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("bill_date", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("kind IN ('activation', 'renewal', 'vas', 'plan_change', 'on_demand')", name="kind_known"),
    CheckConstraint("state IN ('settled', 'partially_refunded', 'refunded')", name="state_known"),
    CheckConstraint("amount_minor >= 0", name="amount_non_negative"),
    CheckConstraint("period_end >= period_start", name="period_ordered"),
    Index("ix_customer_bill_customer_id", "customer_id", "bill_date"),
    Index("ix_customer_bill_subscription_id", "subscription_id"),
    # A charge settles one bill: a second bill for the same payment would bill the customer twice.
    Index("uq_customer_bill_payment_id", "payment_id", unique=True, postgresql_where=text("payment_id IS NOT NULL")),
    schema="billing",
)

applied_billing_rate = Table(
    "applied_billing_rate", metadata,
    Column("id", Text, primary_key=True),  # `<bill id>-<line number>`: stable, no sequence needed
    Column("bill_id", Text, nullable=False),
    Column("subscription_id", Text, nullable=False),
    Column("offering_id", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("amount_minor", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("rate_type", Text, nullable=False),
    Column("period_start", DateTime(timezone=True), nullable=False),
    Column("period_end", DateTime(timezone=True), nullable=False),
    Column("is_billed", Boolean, nullable=False, server_default="true"),
    CheckConstraint("rate_type IN ('recurring', 'one_time')", name="rate_type_known"),
    CheckConstraint("amount_minor >= 0", name="amount_non_negative"),
    Index("ix_applied_billing_rate_bill_id", "bill_id"),
    Index("ix_applied_billing_rate_subscription_id", "subscription_id"),
    schema="billing",
)


def _rate_type(value: object) -> object:
    return RateType.ONE_TIME.value if value == "oneTime" else value


class BillLine(BaseModel):
    """One charged item of a bill (an applied billing rate)."""

    model_config = ConfigDict(frozen=True)
    offering_id: str
    description: str = Field(min_length=1, max_length=200)
    amount_minor: int
    currency: str = Field(min_length=3, max_length=3)
    rate_type: Annotated[RateType, BeforeValidator(_rate_type)]


class IssueBill(BaseModel):
    """Issue the bill of one charge, once per idempotency key."""

    model_config = ConfigDict(frozen=True)
    idempotency_key: str = Field(min_length=1, max_length=200)
    customer_id: str
    subscription_id: str
    kind: BillKind
    payment_id: str | None
    period_start: dt.datetime
    period_end: dt.datetime
    lines: list[BillLine]


class IssuedBill(BaseModel):
    """The bill an `IssueBill` produced (the same one on every retry)."""

    bill_id: str
    amount_minor: int
    currency: str
    state: BillState
    created: bool  # False when the key had already issued this bill


def line_id(bill_id: str, number: int) -> str:
    """Id of the `number`-th (1-based) applied rate of a bill."""
    return f"{bill_id}-{number}"
