"""Usage operations (TMF635): send a network usage event to be rated, and read a number's or a line's usage."""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from core.scopes import Scope
from operations.fields import SubscriptionId, UsageId
from operations.registry import Client, Input, operation

USAGE = "/tmf-api/usageManagement/v4/usage"
UNITS = {"data": "MB", "voice": "s", "sms": "sms"}
# Accepted suffixes per type, with their size in the type's base unit (MB, seconds, count).
SUFFIXES = {
    "data": {"": 1, "mb": 1, "m": 1, "gb": 1024, "g": 1024},
    "voice": {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600},
    "sms": {"": 1, "sms": 1},
}
_QUANTITY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")
MSISDN = r"^\d{6,15}$"


def parse_quantity(text: str, usage_type: str) -> int:
    """Parse `1GB`, `500MB`, `90s`, `5min`, `3 sms` into base units of `usage_type` (1 GB = 1024 MB)."""
    match = _QUANTITY.match(text.lower())
    suffixes = SUFFIXES.get(usage_type, {})
    if not match or match.group(2) not in suffixes:
        allowed = ", ".join(s for s in suffixes if s) or "none"
        raise ValueError(f"'{text}' is not a {usage_type} quantity (a number, optionally with {allowed})")
    value = float(match.group(1)) * suffixes[match.group(2)]
    if value != int(value):
        raise ValueError(f"'{text}' is not a whole number of {UNITS[usage_type]}")
    return int(value)


class SimulateUsage(Input):
    """One usage event, as the network would send it."""

    msisdn: str = Field(pattern=MSISDN, description="The line's number.")
    usage_type: Literal["data", "voice", "sms"] = Field(default="data", description="data | voice | sms.",
                                                        json_schema_extra={"flag": "--type"})
    quantity: str = Field(description="e.g. 1GB, 500MB, 90s, 5min, 3 sms.")
    roaming: bool = Field(default=False, description="Roaming data (draws from the roaming bundle).")
    event_id: str | None = Field(default=None, min_length=1, max_length=120, description="The network's event id; "
                                 "resending it returns the first result. Default: a new one.")

    @field_validator("quantity")
    @classmethod
    def _of_its_type(cls, value: str, info: ValidationInfo) -> str:
        if "usage_type" in info.data:  # else the type itself was refused
            parse_quantity(value, info.data["usage_type"])
        return value


@operation("usage.simulate", scope=Scope.USAGE_INGEST, routes=[f"POST {USAGE}"])
def simulate(client: Client, args: SimulateUsage) -> Any:
    """Send one usage event as the network would, and show how it was rated."""
    chars = {"msisdn": args.msisdn, "quantity": parse_quantity(args.quantity, args.usage_type),
             "unit": UNITS[args.usage_type], "roaming": args.roaming,
             "eventId": args.event_id or f"sim-{uuid.uuid4().hex[:16]}"}
    body = {"usageType": args.usage_type, "usageCharacteristic": [{"name": k, "value": v} for k, v in chars.items()]}
    return client.request("POST", USAGE, json=body)


class UsageHistory(Input):
    """Whose usage: a number's or a line's (exactly one)."""

    msisdn: str | None = Field(default=None, pattern=MSISDN, description="Every event sent for this number.")
    subscription_id: str | None = Field(default=None, pattern=r"^SUB-[0-9A-Z]+$", description="Every event of a "
                                        "line (SUB-…).", json_schema_extra={"flag": "--subscription"})
    limit: int = Field(default=50, ge=1, le=1000, description="Newest events to show.")

    @model_validator(mode="after")
    def _one(self) -> UsageHistory:
        if (self.msisdn is None) == (self.subscription_id is None):
            raise ValueError("give exactly one of --msisdn or --subscription")
        return self


@operation("usage.history", scope=Scope.USAGE_READ, routes=[f"GET {USAGE}"], result="list")
def history(client: Client, args: UsageHistory) -> Any:
    """Show usage events of a number or a line, newest first, rated and rejected."""
    params = {"msisdn": args.msisdn} if args.msisdn else {"subscription.id": args.subscription_id}
    return client.request("GET", USAGE, params={**params, "limit": args.limit})


class WhichUsage(Input):
    """Which usage record."""

    usage_id: UsageId


@operation("usage.show", scope=Scope.USAGE_READ, routes=[f"GET {USAGE}/{{usage_id}}"], arguments=("usage_id",))
def show(client: Client, args: WhichUsage) -> Any:
    """Show one usage record: the event, how it was rated (or why it was rejected), what is left."""
    return client.request("GET", f"{USAGE}/{args.usage_id}")


class DailyUsage(Input):
    """Which line."""

    subscription_id: SubscriptionId


@operation("usage.daily", scope=Scope.USAGE_READ, routes=["GET /bss-api/v1/subscription/{subscription_id}/usage/daily"],
           arguments=("subscription_id",))
def daily(client: Client, args: DailyUsage) -> Any:
    """Show a line's usage per day of its current period (data, voice, SMS, roaming data)."""
    return client.request("GET", f"/bss-api/v1/subscription/{args.subscription_id}/usage/daily")
