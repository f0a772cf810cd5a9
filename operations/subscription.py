"""Line operations: show and list lines (TMF637 products with TMF654 buckets), their eSIM, and their
lifecycle writes (VAS, top-up, renewal, plan change and its cancel, termination).

Each write reaches the line's workflow through `/bss-api/v1/subscription/{id}/…` (or TMF654
`topupBalance`); a refusal comes back as a TMF Error with the rule code. A purchase or renewal
without a request id gets a fresh one, so only a retry that passes the same id is answered by the first.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import Field

from core.scopes import Scope
from operations.fields import CUSTOMER_ID, CustomerId, SubscriptionId
from operations.registry import Client, Input, operation

PRODUCTS = "/tmf-api/productInventory/v4/product"
BUCKETS = "/tmf-api/prepayBalanceManagement/v4/bucket"
TOPUP = "/tmf-api/prepayBalanceManagement/v4/topupBalance"
LINES = "/bss-api/v1/subscription"
CUSTOMER_LINES = "/bss-api/v1/customer"
# Our line states as TMF637 `status` values (the API filters on the TMF names).
STATUS_OF_STATE = {"pending": "pendingActive", "active": "active", "blocked": "suspended", "terminated": "terminated"}
RequestId = Field(default=None, min_length=1, max_length=100,
                  description="Idempotency key (a retry with it never charges twice); generated when omitted.")


class Line(Input):
    """Which line."""

    subscription_id: SubscriptionId


@operation("subscription.show", scope=Scope.LINE_READ, routes=[f"GET {PRODUCTS}/{{product_id}}", f"GET {BUCKETS}"],
           arguments=("subscription_id",))
def show(client: Client, args: Line) -> Any:
    """Show a line: state, plan, snapshot price, number, period and a bar per bundle allowance."""
    return {"product": client.request("GET", f"{PRODUCTS}/{args.subscription_id}"),
            "bucket": client.request("GET", BUCKETS, params={"product.id": args.subscription_id, "limit": 100})}


class ListLines(Input):
    """Filters of the line list."""

    customer_id: str | None = Field(default=None, pattern=CUSTOMER_ID, description="Only this customer's lines.",
                                           json_schema_extra={"flag": "--customer"})
    state: Literal["pending", "active", "blocked", "terminated"] | None = Field(
        default=None, description="Only lines in this state: pending|active|blocked|terminated.")
    limit: int = Field(default=100, ge=1, le=1000, description="At most this many lines.")


@operation("subscription.list", scope=Scope.LINE_READ, routes=[f"GET {PRODUCTS}"], result="list")
def list_(client: Client, args: ListLines) -> Any:
    """List lines, optionally of one customer and in one state."""
    return client.request("GET", PRODUCTS, params={
        "relatedParty.id": args.customer_id, "status": STATUS_OF_STATE[args.state] if args.state else None,
        "limit": args.limit})


@operation("subscription.esim", scope=Scope.LINE_READ, routes=[f"GET {LINES}/{{subscription_id}}/esim"],
           arguments=("subscription_id",))
def esim(client: Client, args: Line) -> Any:
    """Show the line's eSIM activation code (LPA string) with its ICCID and IMSI."""
    return client.request("GET", f"{LINES}/{args.subscription_id}/esim")


class BuyVas(Input):
    """A VAS to buy for a line."""

    subscription_id: SubscriptionId
    offering: str = Field(min_length=1, max_length=60, description="VAS offering id (e.g. VAS_DATA_1GB).")
    request_id: str | None = RequestId


@operation("subscription.vas", scope=Scope.LINE_WRITE, charges=True, routes=[f"POST {LINES}/{{subscription_id}}/vas"],
           arguments=("subscription_id",))
def vas(client: Client, args: BuyVas) -> Any:
    """Buy a VAS for the line with the card on file."""
    return client.request("POST", f"{LINES}/{args.subscription_id}/vas", json={
        "offeringId": args.offering, "requestId": args.request_id or f"req-{uuid.uuid4()}"})


class TopUp(Input):
    """How much data to add to a line's data (or roaming data) bucket."""

    subscription_id: SubscriptionId
    amount: int = Field(ge=1, le=1000, description="How much, in --units.")
    units: Literal["MB", "GB", "day"] = Field(default="GB", description="MB | GB | day (day: unlimited data day pass).")
    allowance: Literal["data", "data_roaming"] = Field(default="data", description="data | data_roaming.")


@operation("subscription.top_up", scope=Scope.LINE_WRITE, charges=True, routes=[f"POST {TOPUP}"], arguments=("subscription_id",))
def top_up(client: Client, args: TopUp) -> Any:
    """Top up a line's data or roaming data by buying the VAS that grants that amount (TMF654)."""
    return client.request("POST", TOPUP, json={
        "bucket": {"id": f"{args.subscription_id}-{args.allowance}"}, "usageType": "data",
        "amount": {"amount": args.amount, "units": args.units}})


class Renew(Input):
    """Which line to renew."""

    subscription_id: SubscriptionId
    request_id: str | None = RequestId


@operation("subscription.renew", scope=Scope.LINE_WRITE, charges=True, routes=[f"POST {LINES}/{{subscription_id}}/renew"],
           arguments=("subscription_id",))
def renew(client: Client, args: Renew) -> Any:
    """Renew the line now: charge the period, reset the bundle, lift a block."""
    return client.request("POST", f"{LINES}/{args.subscription_id}/renew",
                          json={"requestId": args.request_id or f"req-{uuid.uuid4()}"})


class PlanChange(Input):
    """The plan a line moves to at its next renewal."""

    subscription_id: SubscriptionId
    offering: str = Field(min_length=1, max_length=60, description="Target plan (e.g. PLAN_L).")


@operation("subscription.plan_change", scope=Scope.LINE_WRITE,
           routes=[f"POST {LINES}/{{subscription_id}}/plan-change"], arguments=("subscription_id",))
def plan_change(client: Client, args: PlanChange) -> Any:
    """Schedule a plan change for the next renewal."""
    return client.request("POST", f"{LINES}/{args.subscription_id}/plan-change", json={"offeringId": args.offering})


@operation("subscription.cancel_plan_change", scope=Scope.LINE_WRITE,
           routes=[f"POST {LINES}/{{subscription_id}}/plan-change/cancel"], arguments=("subscription_id",))
def cancel_plan_change(client: Client, args: Line) -> Any:
    """Drop the scheduled plan change."""
    return client.request("POST", f"{LINES}/{args.subscription_id}/plan-change/cancel")


class Terminate(Input):
    """Which line ends, and why."""

    subscription_id: SubscriptionId
    reason: str = Field(default="terminated by request", min_length=1, max_length=500,
                        description="Why the line ends.")


@operation("subscription.terminate", scope=Scope.LINE_WRITE, routes=[f"POST {LINES}/{{subscription_id}}/terminate"],
           destructive=True, arguments=("subscription_id",),
           confirm="Terminate {subscription_id}? This cannot be undone", declined="not terminated")
def terminate(client: Client, args: Terminate) -> Any:
    """Terminate the line: number to 90-day quarantine, eSIM recycled, network deprovisioned."""
    return client.request("POST", f"{LINES}/{args.subscription_id}/terminate", json={"reason": args.reason})


class CustomerLines(Input):
    """Whose lines."""

    customer_id: CustomerId


@operation("subscription.overview", scope=Scope.LINE_READ, routes=[f"GET {CUSTOMER_LINES}/{{customer_id}}/lines"],
           arguments=("customer_id",))
def overview(client: Client, args: CustomerLines) -> Any:
    """Show every line of a customer with its balances and its usage per day of the period, in one read."""
    return client.request("GET", f"{CUSTOMER_LINES}/{args.customer_id}/lines")
