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
    # Undos of a failed/cancelled order that could not be done ("refund: payment.refund.declined: …"):
    # kept on the order and its event so an operator finishes them by hand.
    failed_undos: list[str] = []
    # Close it only from this state (else leave it as it is): the API fails an order it could not start
    # only while it is still `acknowledged`, so a start that landed late is never undercut.
    only_from: str | None = None


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


# --- the order's own writes in stages: one local activity, one transaction each ---------------

class ReserveForOrder(BaseModel):
    """Reserve a number (the requested one, if any) and an eSIM profile, and record the order RESERVED."""

    order_id: str
    requested_msisdn: str | None = None


class OrderResources(BaseModel):
    """The number and the eSIM profile an order holds."""

    msisdn: str
    iccid: str


class PaidOrder(BaseModel):
    """A paid order and what it holds: the facts every stage after the charge works from."""

    order_id: str
    customer_id: str
    offering_id: str
    msisdn: str
    iccid: str
    payment_id: str


class StartProvisioning(PaidOrder):
    """After the charge: record the payment, create the service order and its tasks, mark provisioning started."""


class ActivateOrder(PaidOrder):
    """After provisioning: create the line, hand it the resources, complete the service order, issue the bill."""

    price_minor: int
    currency: str
