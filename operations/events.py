"""Event plane operations: TMF hub listeners and their deliveries (`bss events …`, agent tools of the CLI profile)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from core.scopes import Scope
from operations.registry import Client, Input, operation

EVENTS = "/ops-api/v1/events"
# The TMF APIs a listener can be registered on (apis/tmf_hub.py serves the same list, domain/events.API_BASES).
APIS = {
    "productCatalogManagement": "/tmf-api/productCatalogManagement/v4", "troubleTicket": "/tmf-api/troubleTicket/v4",
    "productOrderingManagement": "/tmf-api/productOrderingManagement/v4",
    "customerManagement": "/tmf-api/customerManagement/v4", "party": "/tmf-api/party/v4",
    "usageManagement": "/tmf-api/usageManagement/v4", "productInventory": "/tmf-api/productInventory/v4",
    "serviceInventory": "/tmf-api/serviceInventory/v4",
    "resourceInventoryManagement": "/tmf-api/resourceInventoryManagement/v4",
    "ServiceActivationAndConfiguration": "/tmf-api/ServiceActivationAndConfiguration/v4",
    "serviceOrdering": "/tmf-api/serviceOrdering/v4", "prepayBalanceManagement": "/tmf-api/prepayBalanceManagement/v4",
    "paymentMethod": "/tmf-api/paymentMethod/v4", "paymentManagement": "/tmf-api/paymentManagement/v4",
    "customerBillManagement": "/tmf-api/customerBillManagement/v4", "partyInteraction": "/tmf-api/partyInteraction/v4",
}
ApiName = Literal[
    "productCatalogManagement", "troubleTicket", "productOrderingManagement", "customerManagement", "party",
    "usageManagement", "productInventory", "serviceInventory", "resourceInventoryManagement",
    "ServiceActivationAndConfiguration", "serviceOrdering", "prepayBalanceManagement", "paymentMethod",
    "paymentManagement", "customerBillManagement", "partyInteraction"]
HubId = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$", description="Hub id (from `bss events hubs`).")


class Subscribe(Input):
    """Which API's events go to which URL."""

    api: ApiName = Field(description="TMF API, e.g. productOrderingManagement.")
    callback: str = Field(min_length=1, max_length=2000, description="http(s) URL the events are POSTed to.")
    query: str | None = Field(default=None, max_length=2000,
                              description="Filter, e.g. eventType=ProductOrderStateChangeEvent&"
                                          "event.productOrder.state=completed (comma = or).")


@operation("events.subscribe", scope=Scope.EVENTS_ADMIN, routes=[f"POST {base}/hub" for base in APIS.values()])
def subscribe(client: Client, args: Subscribe) -> Any:
    """Register a listener (TMF hub) for one API's events; prints its signing secret once."""
    body = {"callback": args.callback} | ({"query": args.query} if args.query else {})
    return client.request("POST", f"{APIS[args.api]}/hub", json=body)


class Unsubscribe(Input):
    """Which hub of which API."""

    api: ApiName = Field(description="The TMF API the hub was registered on.")
    hub_id: str = HubId


@operation("events.unsubscribe", scope=Scope.EVENTS_ADMIN, arguments=("hub_id",), destructive=True,
           routes=[f"DELETE {base}/hub/{{hub_id}}" for base in APIS.values()],
           confirm="Stop sending events to hub {hub_id}?")
def unsubscribe(client: Client, args: Unsubscribe) -> Any:
    """Stop a listener: nothing more is sent to it."""
    client.request("DELETE", f"{APIS[args.api]}/hub/{args.hub_id}")
    return {"id": args.hub_id, "state": "deleted"}


class ListHubs(Input):
    """No input."""


@operation("events.hubs", scope=Scope.EVENTS_ADMIN, routes=[f"GET {EVENTS}/hubs"], result="list")
def hubs(client: Client, args: ListHubs) -> Any:
    """List event subscriptions (TMF hubs and the notifier) with their delivery counts."""
    return client.request("GET", f"{EVENTS}/hubs")


class ListDeliveries(Input):
    """Filters of the delivery list."""

    status: Literal["delivered", "retrying", "failed"] | None = Field(default=None,
                                                                      description="delivered|retrying|failed")
    hub: str | None = Field(default=None, max_length=100, description="Only this hub's deliveries.")
    limit: int = Field(default=100, ge=1, le=1000, description="How many.")


@operation("events.deliveries", scope=Scope.EVENTS_ADMIN, routes=[f"GET {EVENTS}/deliveries"], result="list")
def deliveries(client: Client, args: ListDeliveries) -> Any:
    """List event deliveries, newest attempt first (e.g. --status failed)."""
    return client.request("GET", f"{EVENTS}/deliveries",
                          params={"status": args.status, "hub": args.hub, "limit": args.limit})


class Replay(Input):
    """One failed delivery, or every failed delivery of a hub."""

    delivery_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,200}$",
                                    description="Delivery id (X-Event-Delivery-Id).")
    hub: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$",
                            description="Replay every failed delivery of this hub.")

    @model_validator(mode="after")
    def _one(self) -> Replay:
        if bool(self.delivery_id) == bool(self.hub):
            raise ValueError("name one delivery id or one --hub")
        return self


@operation("events.replay", scope=Scope.EVENTS_ADMIN, arguments=("delivery_id",), result="list",
           routes=[f"POST {EVENTS}/deliveries/{{delivery_id}}/replay", f"POST {EVENTS}/hubs/{{hub_id}}/replay"])
def replay(client: Client, args: Replay) -> Any:
    """Send failed deliveries again with their original delivery id (one, or all of --hub)."""
    if args.delivery_id:
        return client.request("POST", f"{EVENTS}/deliveries/{args.delivery_id}/replay")
    return client.request("POST", f"{EVENTS}/hubs/{args.hub}/replay")
