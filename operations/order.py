"""Order operations (TMF622): place, list, show (the order or its tree) and cancel product orders."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from core.scopes import Scope
from operations.fields import CUSTOMER_ID, OrderId
from operations.registry import Client, Input, operation

ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
CANCEL = "/tmf-api/productOrderingManagement/v4/cancelProductOrder"
TREE = "/bss-api/v1/order"
FINAL = ("completed", "failed", "cancelled")


class CreateOrder(Input):
    """A product order: a new line (`add`), a plan change of a line (`modify`) or its termination (`delete`)."""

    customer_id: str | None = Field(default=None, pattern=CUSTOMER_ID, description="Customer id (CUST-…); for "
                                    "modify/delete the line's owner when omitted.", json_schema_extra={"flag": "--customer"})
    offering: str | None = Field(default=None, min_length=1, description="Plan offering id, e.g. PLAN_M (add: the "
                                 "plan to order; modify: the plan to move to).")
    action: Literal["add", "modify", "delete"] = Field(default="add", description="add (a new line) | modify (change "
                                                       "--line's plan) | delete (terminate --line).")
    line: str | None = Field(default=None, pattern=r"^SUB-\d+$", description="The line a modify/delete order acts on "
                             "(SUB-…).")
    msisdn: str | None = Field(default=None, pattern=r"^\d{6,15}$", description="A chosen available number (add).")
    request_id: str | None = Field(default=None, min_length=1, max_length=100,
                                   description="Your id; a retry with it returns the same order.")

    @model_validator(mode="after")
    def _complete(self) -> CreateOrder:
        if self.action == "add":
            if not self.customer_id or not self.offering or self.line:
                raise ValueError("an add order names --customer and --offering, and no --line")
        elif not self.line:
            raise ValueError(f"a {self.action} order names the --line it acts on")
        elif self.action == "modify" and not self.offering:
            raise ValueError("a modify order names the --offering the line moves to")
        elif self.msisdn:
            raise ValueError("--msisdn chooses the number of a new line (add orders only)")
        return self


@operation("order.create", scope=Scope.ORDER_WRITE, charges=True, routes=[f"POST {ORDERS}"])
def create(client: Client, args: CreateOrder) -> Any:
    """Place a product order: a new line (reserve, charge, provision, activate), a plan change or a termination."""
    item: dict[str, Any] = {"id": "1", "action": args.action, "quantity": 1}
    if args.offering:
        item["productOffering"] = {"id": args.offering, "@referredType": "ProductOffering"}
    if args.line:
        item["product"] = {"id": args.line, "@referredType": "Product"}
    elif args.msisdn:
        item["product"] = {"productCharacteristic": [{"name": "msisdn", "value": args.msisdn}]}
    body: dict[str, Any] = {"productOrderItem": [item]}
    if args.customer_id:
        body["relatedParty"] = [{"id": args.customer_id, "role": "customer", "@referredType": "Customer"}]
    if args.request_id:
        body["externalId"] = args.request_id
    return client.request("POST", ORDERS, json=body)


class ShowOrder(Input):
    """Which order."""

    order_id: OrderId


@operation("order.show", scope=Scope.ORDER_READ, routes=[f"GET {ORDERS}/{{order_id}}"], arguments=("order_id",))
def show(client: Client, args: ShowOrder) -> Any:
    """Show an order: state, step, line, failure or cancellation reason."""
    return client.request("GET", f"{ORDERS}/{args.order_id}")


@operation("order.tree", scope=Scope.ORDER_READ, routes=[f"GET {TREE}/{{order_id}}/tree"], arguments=("order_id",))
def tree(client: Client, args: ShowOrder) -> Any:
    """Show the order tree: order → service order → CFS → RFS → provisioning tasks."""
    return client.request("GET", f"{TREE}/{args.order_id}/tree")


class ListOrders(Input):
    """Filters of the order list."""

    customer_id: str | None = Field(default=None, pattern=CUSTOMER_ID, description="Only this customer's orders.",
                                           json_schema_extra={"flag": "--customer"})
    state: Literal["acknowledged", "inProgress", "completed", "failed", "cancelled"] | None = Field(
        default=None, description="acknowledged|inProgress|completed|failed|cancelled")
    limit: int = Field(default=20, ge=1, le=1000, description="At most this many orders.")


@operation("order.list", scope=Scope.ORDER_READ, routes=[f"GET {ORDERS}"], result="list")
def list_(client: Client, args: ListOrders) -> Any:
    """List recent orders."""
    return client.request("GET", ORDERS, params={"relatedParty.id": args.customer_id, "state": args.state,
                                                 "limit": args.limit})


class CancelOrder(Input):
    """Which order, and why."""

    order_id: OrderId
    reason: str = Field(default="cancelled by operator", min_length=1, max_length=500, description="Why.")


@operation("order.cancel", scope=Scope.ORDER_WRITE, routes=[f"POST {CANCEL}"], destructive=True,
           arguments=("order_id",), confirm="Cancel {order_id}?", declined="not cancelled")
def cancel(client: Client, args: CancelOrder) -> Any:
    """Cancel an order before provisioning starts; reservations and charge are undone."""
    return client.request("POST", CANCEL, json={"productOrder": {"id": args.order_id, "@referredType": "ProductOrder"},
                                                "cancellationReason": args.reason})
