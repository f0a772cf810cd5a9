"""Bill operations (TMF678): a customer's or a line's bills, one bill with its lines, its text document,
and a bill on demand for a charge no flow billed (a manual payment)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from core.scopes import Scope
from operations.fields import CUSTOMER_ID, BillId, CustomerId, PaymentId, SubscriptionId
from operations.registry import Client, Input, operation

BILLS = "/tmf-api/customerBillManagement/v4/customerBill"
RATES = "/tmf-api/customerBillManagement/v4/appliedCustomerBillingRate"
DOCUMENT = "/billing-api/v1/bill"
ON_DEMAND = "/tmf-api/customerBillManagement/v4/customerBillOnDemand"
MAX = 1000


class ListBills(Input):
    """Whose bills: a customer's, or one line's."""

    customer_id: str | None = Field(default=None, pattern=CUSTOMER_ID, description="Bills of this customer "
                                    "(CUST-…).", json_schema_extra={"flag": "--customer"})
    # A filter: an id of another shape (say, a test's SUB-T…) lists nothing rather than being refused.
    subscription_id: str | None = Field(default=None, pattern=r"^SUB-[0-9A-Z]+$", description="Bills of this "
                                        "line (SUB-…).", json_schema_extra={"flag": "--subscription"})

    @model_validator(mode="after")
    def _named(self) -> ListBills:
        if not self.customer_id and not self.subscription_id:
            raise ValueError("name the bills to list: --customer CUST-… or --subscription SUB-…")
        return self


@operation("bill.list", scope=Scope.BILL_READ, routes=[f"GET {BILLS}", f"GET {RATES}"], result="list")
def list_(client: Client, args: ListBills) -> Any:
    """List bills of a customer or of one line, newest first."""
    params = {"relatedParty.id": args.customer_id, "limit": MAX}
    if not args.subscription_id:
        return client.request("GET", BILLS, params=params)
    # A bill names its line through its rates (TMF678 bills have no product); ids are OR-ed by a comma.
    rates = client.request("GET", RATES, params={"product.id": args.subscription_id, "limit": MAX})
    bill_ids = sorted({rate["bill"]["id"] for rate in rates})
    return client.request("GET", BILLS, params={**params, "id": ",".join(bill_ids)}) if bill_ids else []


class WhichBill(Input):
    """Which bill."""

    bill_id: BillId


@operation("bill.show", scope=Scope.BILL_READ, routes=[f"GET {BILLS}/{{bill_id}}", f"GET {RATES}"],
           arguments=("bill_id",))
def show(client: Client, args: WhichBill) -> Any:
    """Show a bill with its lines, total and the payment that settled it."""
    return {"customerBill": client.request("GET", f"{BILLS}/{args.bill_id}"),
            "appliedCustomerBillingRate": client.request("GET", RATES, params={"bill.id": args.bill_id,
                                                                               "limit": MAX})}


@operation("bill.document", scope=Scope.BILL_READ, routes=[f"GET {DOCUMENT}/{{bill_id}}/document"],
           arguments=("bill_id",))
def document(client: Client, args: WhichBill) -> Any:
    """Show a bill's document: the plain-text bill its `billDocument` links (lines, total, how it was paid).

    The API answers text/plain, so the result is that text (with --json, as one JSON string).
    """
    return client.request("GET", f"{DOCUMENT}/{args.bill_id}/document")


class OnDemand(Input):
    """The charge to bill: whose, for which line, settled by which payment."""

    customer_id: CustomerId
    subscription_id: SubscriptionId = Field(json_schema_extra={"flag": "--subscription"})
    payment_id: PaymentId = Field(json_schema_extra={"flag": "--payment"})
    description: str = Field(default="On-demand charge", min_length=1, max_length=200,
                             description="What the charge was for (the bill's one line).")


@operation("bill.on_demand", scope=Scope.BILL_ISSUE, routes=[f"POST {ON_DEMAND}"], arguments=("customer_id",))
def on_demand(client: Client, args: OnDemand) -> Any:
    """Bill a manual charge on demand: one line of the payment's amount, settled by that payment (TMF678)."""
    return client.request("POST", ON_DEMAND, json={
        "billingAccount": {"id": args.customer_id}, "product": {"id": args.subscription_id},
        "payment": {"id": args.payment_id}, "description": args.description})
