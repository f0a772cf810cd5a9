"""Subscription policies: when a line may buy a VAS, renew, change plan, or be terminated.

Pure functions over values the caller loaded. The API runs them first (fast 422), the workflow's
update validators run them again on the workflow's view (a refused update leaves no history), and
the activities have the last word on locked rows. Sellability needs the catalog, so callers that
cannot see it pass `None` and leave that rule to the activity.
"""

from __future__ import annotations

from core.errors import Violation
from policies.base import violation

LIVE = ("pending", "active", "blocked")


def check_vas_purchase(subscription_id: str, state: str, offering_id: str, offering_kind: str | None = None,
                       sellable: bool | None = None, blocked_reason: str | None = None) -> list[Violation]:
    """A VAS can be bought on a line that is not terminated and whose period is paid, if it is a VAS on sale."""
    found = []
    if state == "terminated":
        found.append(violation("subscription.vas_purchase.not_if_terminated",
                               f"subscription {subscription_id} is terminated",
                               subscription_id=subscription_id, state=state))
    elif blocked_reason == "renewal_declined":
        found.append(violation("subscription.vas_purchase.requires_paid_period",
                               f"the renewal of {subscription_id} was not paid; renew the line first",
                               subscription_id=subscription_id, blocked_reason=blocked_reason))
    if sellable is False or (offering_kind is not None and offering_kind != "vas"):
        found.append(violation("subscription.vas_purchase.offering_sellable",
                               f"{offering_id} is not a value-added service on sale now",
                               offering_id=offering_id, kind=offering_kind))
    return found


def check_renew(subscription_id: str, state: str) -> list[Violation]:
    """Only an active or blocked line can be renewed."""
    if state in ("active", "blocked"):
        return []
    return [violation("subscription.renew.only_if_active_or_blocked",
                      f"subscription {subscription_id} is {state}; only active or blocked lines renew",
                      subscription_id=subscription_id, state=state)]


def check_terminate(subscription_id: str, state: str) -> list[Violation]:
    """Only a live line (pending, active, blocked) can be terminated."""
    if state in LIVE:
        return []
    return [violation("subscription.terminate.only_if_live", f"subscription {subscription_id} is already {state}",
                      subscription_id=subscription_id, state=state)]


def check_plan_change(subscription_id: str, state: str, current_offering_id: str, target_offering_id: str,
                      pending_offering_id: str | None, target_kind: str | None = None,
                      target_sellable: bool | None = None) -> list[Violation]:
    """An active line may schedule one change, to another plan that is on sale."""
    found = []
    if state != "active":
        found.append(violation("subscription.plan_change.only_if_active",
                               f"subscription {subscription_id} is {state}; only an active line changes plan",
                               subscription_id=subscription_id, state=state))
    if target_offering_id == current_offering_id:
        found.append(violation("subscription.plan_change.same_offering",
                               f"the line is already on {target_offering_id}",
                               subscription_id=subscription_id, offering_id=target_offering_id))
    if pending_offering_id is not None:
        found.append(violation("subscription.plan_change.already_pending",
                               f"a change to {pending_offering_id} is already scheduled; cancel it first",
                               subscription_id=subscription_id, pending_offering_id=pending_offering_id))
    if target_sellable is False or (target_kind is not None and target_kind != "plan"):
        found.append(violation("subscription.plan_change.target_not_sellable",
                               f"{target_offering_id} is not a plan on sale now",
                               offering_id=target_offering_id, kind=target_kind))
    return found


def check_cancel_plan_change(subscription_id: str, state: str, pending_offering_id: str | None) -> list[Violation]:
    """Only a scheduled change of a live line can be cancelled."""
    if state in LIVE and pending_offering_id is not None:
        return []
    return [violation("subscription.plan_change.nothing_pending",
                      f"subscription {subscription_id} has no scheduled plan change",
                      subscription_id=subscription_id, state=state)]


def first_message(violations: list[Violation]) -> str:
    """`<rule code>: <message>` of the first violation, as workflow validators raise it."""
    first = violations[0]
    return f"{first.code}: {first.message}"
