"""Ordering schema (COM, TMF622): product orders and their state machine."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, DateTime, Index, Integer, Table, Text, func

from domain.metadata import metadata
from domain.states import StateMachine


class OrderState(StrEnum):
    """Lifecycle of a product order (SPEC §2)."""

    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATES = (OrderState.COMPLETED, OrderState.FAILED, OrderState.CANCELLED)

ORDER_MACHINE: StateMachine[OrderState] = StateMachine("order", {
    (OrderState.ACKNOWLEDGED, "start"): OrderState.IN_PROGRESS,
    (OrderState.ACKNOWLEDGED, "cancel"): OrderState.CANCELLED,
    (OrderState.ACKNOWLEDGED, "fail"): OrderState.FAILED,
    (OrderState.IN_PROGRESS, "complete"): OrderState.COMPLETED,
    (OrderState.IN_PROGRESS, "fail"): OrderState.FAILED,
    (OrderState.IN_PROGRESS, "cancel"): OrderState.CANCELLED,
})


class OrderAction(StrEnum):
    """What an order's item does (TMF622 `action`): a new line, a plan change of one, or its termination."""

    ADD = "add"
    MODIFY = "modify"
    DELETE = "delete"


class OrderStep(StrEnum):
    """Milestones of order-to-activation, also the `OrderStatus` search attribute values."""

    ACKNOWLEDGED = "ACKNOWLEDGED"
    RESERVED = "RESERVED"
    PAID = "PAID"
    SERVICE_ORDERED = "SERVICE_ORDERED"
    PROVISIONING = "PROVISIONING"
    STUCK = "STUCK"
    ACTIVATING = "ACTIVATING"
    COMPENSATING = "COMPENSATING"
    CHANGING_PLAN = "CHANGING_PLAN"  # a modify item: the line's workflow schedules the plan change
    TERMINATING = "TERMINATING"      # a delete item: the line's workflow terminates it
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


product_order = Table(
    "product_order", metadata,
    Column("id", Text, primary_key=True),
    # A client's own request id: a retried POST finds the order it already made.
    Column("external_id", Text, unique=True),
    Column("customer_id", Text, nullable=False),
    Column("offering_id", Text, nullable=False),
    # Snapshot of the price at order time; renewals charge this, not the catalog.
    Column("offering_price_id", Text, nullable=False),
    Column("price_minor", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("period_days", Integer, nullable=False, server_default="30"),
    Column("state", Text, nullable=False, server_default=OrderState.ACKNOWLEDGED.value),
    Column("step", Text, nullable=False, server_default=OrderStep.ACKNOWLEDGED.value),
    Column("requested_msisdn", Text),
    Column("msisdn", Text),
    Column("iccid", Text),
    Column("payment_id", Text),
    Column("service_order_id", Text),
    Column("subscription_id", Text),
    Column("failure_reason", Text),
    Column("channel", Text, nullable=False),
    Column("provisioning_started_at", DateTime(timezone=True)),
    Column("order_date", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # modify/delete act on an existing line, named from the start (0022)
    Column("action", Text, nullable=False, server_default=OrderAction.ADD.value),
    CheckConstraint("action IN ('add', 'modify', 'delete')", name="action_known"),
    CheckConstraint("action = 'add' OR subscription_id IS NOT NULL", name="change_names_line"),
    CheckConstraint("state IN ('acknowledged', 'in_progress', 'completed', 'failed', 'cancelled')",
                    name="state_known"),
    CheckConstraint("state NOT IN ('failed', 'cancelled') OR failure_reason IS NOT NULL", name="ended_with_reason"),
    Index("ix_product_order_customer_id", "customer_id"),
    Index("ix_product_order_state", "state"),
    schema="ordering",
)
