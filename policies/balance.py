"""Balance adjustment rules (TMF654 `adjustBalance`, `balance.adjust.*`): bounded, explained, on a live line.

`check_request` refuses on the request alone; `check_bucket` decides against the locked line and bucket
inside the adjustment's transaction, so two adjustments of one bucket cannot both pass a bound.
"""

from __future__ import annotations

from core.errors import Violation
from domain.subscription import UNLIMITED, SubscriptionState
from policies.base import violation

REASON_REQUIRED = "balance.adjust.reason_required"
AMOUNT_REQUIRED = "balance.adjust.amount_required"
AMOUNT_NON_ZERO = "balance.adjust.amount_non_zero"
WHOLE_BASE_UNITS = "balance.adjust.whole_base_units"
UNITS_KNOWN = "balance.adjust.units_known"
USAGE_TYPE_MATCHES = "balance.adjust.usage_type_matches"
ONE_TIME_ONLY = "balance.adjust.one_time_only"
WITHIN_LIMIT = "balance.adjust.within_limit"
LINE_LIVE = "balance.adjust.line_live"
BUCKET_LIMITED = "balance.adjust.bucket_limited"
NOT_BELOW_CONSUMED = "balance.adjust.not_below_consumed"
KEY_REUSED = "balance.adjust.idempotency_key_reused"

LIVE = (SubscriptionState.ACTIVE, SubscriptionState.BLOCKED)


def check_request(reason: str | None, quantity: int, unit: str, limit: int) -> list[Violation]:
    """Refuse an adjustment without a reason, of nothing, or larger than one adjustment may be."""
    found = []
    if not (reason or "").strip():
        found.append(violation(REASON_REQUIRED, "say why the balance is adjusted (reason)"))
    if quantity == 0:
        found.append(violation(AMOUNT_NON_ZERO, "an adjustment of 0 changes nothing"))
    elif abs(quantity) > limit:
        found.append(violation(WITHIN_LIMIT, f"one adjustment moves at most {limit} {unit}",
                               quantity=quantity, limit=limit, units=unit))
    return found


def check_bucket(subscription_id: str, state: str, total: int, consumed: int, quantity: int) -> list[Violation]:
    """Refuse on a line that is not live, on an unlimited bucket, or a debit below what was already used."""
    if SubscriptionState(state) not in LIVE:
        return [violation(LINE_LIVE, f"line {subscription_id} is {state}: only a live line's balance is adjusted",
                          subscription_id=subscription_id, state=state)]
    if total == UNLIMITED:
        return [violation(BUCKET_LIMITED, "an unlimited bucket has no balance to adjust",
                          subscription_id=subscription_id)]
    if total + quantity < consumed:
        return [violation(NOT_BELOW_CONSUMED, f"a debit of {-quantity} would leave less than the {consumed} "
                                              f"already used (total {total})", total=total, consumed=consumed,
                          quantity=quantity)]
    return []
