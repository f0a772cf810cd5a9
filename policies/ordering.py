"""Order policies: who may order what, and when an order may still be cancelled."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import Violation
from policies.base import violation


@dataclass(frozen=True)
class OrderFacts:
    """What the create-order rules look at, loaded by the caller."""

    customer_id: str
    customer_status: str | None      # None: no such customer
    kyc_status: str | None
    active_cards: int
    offering_id: str
    offering_sellable: bool
    requested_msisdn: str | None = None
    requested_msisdn_state: str | None = None  # None: not in the pool


def check_order_create(facts: OrderFacts) -> list[Violation]:
    """Return every reason this customer cannot order this offering now."""
    found = []
    if facts.customer_status != "active":
        found.append(violation("order.create.customer_active", "the customer must be active to order",
                               customer_id=facts.customer_id, status=facts.customer_status))
    if facts.kyc_status != "verified":
        found.append(violation("order.create.requires_verified_customer",
                               "the customer's identity must be verified (KYC) before ordering",
                               customer_id=facts.customer_id, kyc_status=facts.kyc_status))
    if facts.active_cards < 1:
        found.append(violation("order.create.requires_card_on_file", "a card on file is mandatory before activation",
                               customer_id=facts.customer_id))
    if not facts.offering_sellable:
        found.append(violation("order.create.offering_sellable_now", f"{facts.offering_id} is not sellable now",
                               offering_id=facts.offering_id))
    if facts.requested_msisdn is not None and facts.requested_msisdn_state != "available":
        found.append(violation("order.create.msisdn_available", f"number {facts.requested_msisdn} is not available",
                               msisdn=facts.requested_msisdn, state=facts.requested_msisdn_state))
    return found


def check_order_cancel(order_id: str, state: str, provisioning_started: bool) -> list[Violation]:
    """An order can be cancelled until provisioning starts; after that, terminate the line."""
    if state in ("completed", "failed", "cancelled"):
        return [violation("order.transition.invalid", f"order {order_id} already ended ({state})",
                          order_id=order_id, state=state)]
    if provisioning_started:
        return [violation("order.cancel.not_after_provisioning_started",
                          "provisioning has started: terminate the subscription instead",
                          order_id=order_id)]
    return []
