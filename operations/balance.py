"""Balance adjustments (TMF654 `adjustBalance`): a care agent's goodwill credit or correction to a bucket.

A positive amount credits, a negative one debits; units are the bucket's (MB or GB for data and roaming
data, s or min for voice, sms). A reason is required and shows in the audit trail and on the adjustment.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from core.scopes import Scope
from operations.fields import SubscriptionId
from operations.registry import Client, Input, operation

ADJUST = "/tmf-api/prepayBalanceManagement/v4/adjustBalance"
ALLOWANCE = Literal["data", "voice", "sms", "data_roaming"]
USAGE_TYPE = {"data": "data", "voice": "voice", "sms": "sms", "data_roaming": "data"}
BASE_UNIT = {"data": "MB", "voice": "s", "sms": "sms", "data_roaming": "MB"}


class Adjustment(Input):
    """How much to credit (or, negative, debit) one bucket of a line, and why."""

    subscription_id: SubscriptionId
    amount: int = Field(description="How much, in --units: positive credits, negative debits.")
    reason: str = Field(min_length=1, max_length=500, description="Why (shown in the audit trail), e.g. "
                        "'goodwill: network outage 3 May'.")
    allowance: ALLOWANCE = Field(default="data", description="data | voice | sms | data_roaming.")
    units: Literal["MB", "GB", "s", "min", "sms"] | None = Field(
        default=None, description="MB | GB (data), s | min (voice), sms; the bucket's base unit when omitted.")


@operation("balance.adjust", scope=Scope.BALANCE_ADJUST, routes=[f"POST {ADJUST}"], arguments=("subscription_id",))
def adjust(client: Client, args: Adjustment) -> Any:
    """Credit or debit a line's bucket (goodwill or correction) with a reason; bounded and audited."""
    return client.request("POST", ADJUST, json={
        "bucket": {"id": f"{args.subscription_id}-{args.allowance}"}, "usageType": USAGE_TYPE[args.allowance],
        "amount": {"amount": args.amount, "units": args.units or BASE_UNIT[args.allowance]}, "reason": args.reason})


class ListAdjustments(Input):
    """Whose adjustments."""

    subscription_id: SubscriptionId
    limit: int = Field(default=100, ge=1, le=1000, description="At most this many adjustments.")


@operation("balance.adjustments", scope=Scope.BALANCE_ADJUST, routes=[f"GET {ADJUST}"], arguments=("subscription_id",),
           result="list")
def adjustments(client: Client, args: ListAdjustments) -> Any:
    """List a line's balance adjustments, newest first, with who made them and why."""
    return client.request("GET", ADJUST, params={"product.id": args.subscription_id, "limit": args.limit})
