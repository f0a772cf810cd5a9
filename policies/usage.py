"""Usage rules (SPEC §5 `usage.record.*`): what an event must be, and when a line may use its bundle.

Input rules (`check_event`) refuse before anything is written. Line and balance rules
(`check_line`, `check_rating`) are decided inside the rating transaction against locked rows;
their refusals are recorded as rejected usage (mediation keeps every event it received).
"""

from __future__ import annotations

from core.errors import Violation
from domain.mediation import USAGE_UNITS, UsageType
from domain.rating import BALANCE_EXHAUSTED, ROAMING_BALANCE_REQUIRED, Rating
from domain.subscription import SubscriptionState
from policies.base import violation

POSITIVE_QUANTITY = "usage.record.positive_quantity"
VALID_EVENT_TYPE = "usage.record.valid_event_type"
UNIT_MATCHES_TYPE = "usage.record.unit_matches_type"
UNKNOWN_MSISDN = "usage.record.unknown_msisdn"
SUBSCRIPTION_NOT_ACTIVE = "usage.record.subscription_not_active"
DUPLICATE_EVENT = "usage.record.duplicate_event"
LINE_BUSY = "usage.record.line_busy"
USAGE_TYPES = frozenset(UsageType)

MESSAGES = {
    UNKNOWN_MSISDN: "no live line has this number",
    SUBSCRIPTION_NOT_ACTIVE: "the line is not active; usage is refused until it is",
    ROAMING_BALANCE_REQUIRED: "roaming usage needs a roaming balance, and none is left on this line",
    BALANCE_EXHAUSTED: "the allowance for this usage type is used up",
}


def check_event(usage_type: str, quantity: int, unit: str | None) -> list[Violation]:
    """Refuse an event with an unknown type, a non-positive quantity or a unit foreign to its type."""
    found: list[Violation] = []
    if usage_type not in USAGE_TYPES:
        found.append(violation(VALID_EVENT_TYPE, f"usageType must be one of {', '.join(UsageType)}",
                               usage_type=usage_type))
    elif unit is not None and unit != USAGE_UNITS[UsageType(usage_type)]:
        found.append(violation(UNIT_MATCHES_TYPE, f"{usage_type} is measured in {USAGE_UNITS[UsageType(usage_type)]}",
                               usage_type=usage_type, unit=unit))
    if quantity <= 0:
        found.append(violation(POSITIVE_QUANTITY, "quantity must be a positive number of base units",
                               quantity=quantity))
    return found


def check_line(msisdn: str, state: str | None) -> list[Violation]:
    """Refuse usage on a number without a live line, or on a line that is not active."""
    if state is None:
        return [rejection(UNKNOWN_MSISDN, msisdn=msisdn)]
    if state != SubscriptionState.ACTIVE:
        return [rejection(SUBSCRIPTION_NOT_ACTIVE, msisdn=msisdn, state=state)]
    return []


def check_rating(rating: Rating) -> list[Violation]:
    """Turn a refused rating into its violation."""
    if rating.reject_code is None:
        return []
    return [rejection(rating.reject_code, allowance=rating.allowance and rating.allowance.value)]


def rejection(code: str, **context: object) -> Violation:
    """The violation for a recorded rejection code, with its standard message."""
    return violation(code, MESSAGES.get(code, code), **context)
