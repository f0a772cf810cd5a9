"""Interaction operations (TMF683): the contact log of customers — list it, log a contact made outside the BSS."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from core import clock
from core.scopes import Scope
from operations.fields import CUSTOMER_ID, CustomerId
from operations.registry import Client, Input, operation

INTERACTION = "/tmf-api/partyInteraction/v4/partyInteraction"


class ListInteractions(Input):
    """Filters of the contact log."""

    customer_id: str | None = Field(default=None, pattern=CUSTOMER_ID, description="Only this customer's interactions.",
                                   json_schema_extra={"flag": "--customer"})
    channel: str | None = Field(default=None, max_length=60, description="Only this channel (cli, phone…).")
    limit: int = Field(default=20, ge=1, le=1000, description="At most this many, newest first.")


@operation("interaction.list", scope=Scope.CUSTOMER_READ, routes=[f"GET {INTERACTION}"], result="list")
def list_(client: Client, args: ListInteractions) -> Any:
    """List interactions, newest first."""
    return client.request("GET", INTERACTION, params={"relatedParty.id": args.customer_id, "channel": args.channel,
                                                      "limit": args.limit})


class LogInteraction(Input):
    """A contact with a customer that happened outside the BSS."""

    customer_id: CustomerId
    reason: str = Field(min_length=1, max_length=200, description="What the contact was about.")
    channel: str = Field(default="phone", min_length=1, max_length=60, description="phone, store, email, chat…")
    direction: Literal["inbound", "outbound"] = Field(default="inbound", description="inbound | outbound.")
    description: str | None = Field(default=None, max_length=2000, description="Longer description.")


@operation("interaction.log", scope=Scope.CUSTOMER_WRITE, routes=[f"POST {INTERACTION}"], arguments=("customer_id",))
def log(client: Client, args: LogInteraction) -> Any:
    """Log a contact with a customer that happened outside the BSS (a call, a store visit)."""
    at = clock.now().isoformat().replace("+00:00", "Z")
    body = {"interactionDate": {"startDateTime": at}, "reason": args.reason, "status": "completed",
            "direction": args.direction, "channel": [{"id": args.channel, "name": args.channel}],
            "relatedParty": [{"id": args.customer_id, "@referredType": "Customer", "role": "customer"}],
            **({"description": args.description} if args.description else {})}
    return client.request("POST", INTERACTION, json=body)
