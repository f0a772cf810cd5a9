"""Inputs and outputs of the order-to-activation workflow (pure pydantic: loaded in the sandbox)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.scenario_time import ScenarioClock


class PlaceOrder(BaseModel):
    """Start order-to-activation for one accepted product order."""

    order_id: str
    customer_id: str
    offering_id: str
    price_minor: int
    currency: str
    requested_msisdn: str | None = None
    scenario_clock: ScenarioClock | None = None  # set on a time-skipping stack, handed to the line


class OrderOutcome(BaseModel):
    """How an order ended."""

    order_id: str
    state: str
    subscription_id: str | None = None
    reason: str | None = None


class OrderProgress(BaseModel):
    """Live view of a running order (workflow query)."""

    order_id: str
    step: str
    stuck_task_ids: list[str] = []
    cancel_requested: bool = False
    provisioning_started: bool = False


class CancelOrder(BaseModel):
    """Ask a running order to stop and compensate."""

    reason: str = "cancelled by request"


class OrderStepUpdate(BaseModel):
    """Record a milestone of an order (activity input)."""

    order_id: str
    step: str
    msisdn: str | None = None
    iccid: str | None = None
    payment_id: str | None = None
    service_order_id: str | None = None
    provisioning_started: bool = False


class EndOrder(BaseModel):
    """Close an order as completed, failed or cancelled (activity input)."""

    order_id: str
    state: str
    reason: str | None = None
    subscription_id: str | None = None


class ActivateLine(BaseModel):
    """Create the subscription of a completed activation (activity input)."""

    order_id: str
    msisdn: str
    iccid: str


class LineActivated(BaseModel):
    """The subscription an order produced."""

    subscription_id: str
    msisdn: str
    period_start: datetime | None = None
    period_end: datetime | None = None
