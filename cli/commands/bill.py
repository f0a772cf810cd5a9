"""`bss bill`: customer bills (TMF678), one per charge, with their lines and payment."""

from __future__ import annotations

import typer

BILLS = "/tmf-api/customerBillManagement/v4/customerBill"
RATES = "/tmf-api/customerBillManagement/v4/appliedCustomerBillingRate"
MAX = 1000


def register(app: typer.Typer) -> None:
    """Add the `bill` group to `app`."""
    group = typer.Typer(help="Customer bills: activation, renewal and add-on charges.", no_args_is_help=True)
    app.add_typer(group, name="bill")

    @group.command("list")
    def list_(customer_id: str | None = typer.Option(None, "--customer", help="Bills of this customer (CUST-…)."),
              subscription_id: str | None = typer.Option(None, "--subscription", help="Bills of this line (SUB-…)."),
              as_json: bool = typer.Option(False, "--json", help="Print the API's JSON.")) -> None:
        """List bills of a customer or of one line, newest first."""
        from cli.output import api_errors, emit, fail
        from cli.render.bill import bills_table
        from core.api_client import BssClient

        if not customer_id and not subscription_id:
            fail("name the bills to list: --customer CUST-… or --subscription SUB-…", code=2)
        params = {"relatedParty.id": customer_id, "limit": MAX}
        with api_errors(as_json), BssClient() as client:
            if subscription_id:
                # A bill names its line through its rates (TMF678 bills have no product); ids are OR-ed by a comma.
                rates = client.get(RATES, **{"product.id": subscription_id, "limit": MAX})
                bill_ids = sorted({r["bill"]["id"] for r in rates})
                bills = client.get(BILLS, **params, id=",".join(bill_ids)) if bill_ids else []
            else:
                bills = client.get(BILLS, **params)
        title = " · ".join(filter(None, ["Bills", customer_id, subscription_id]))
        emit(bills, as_json, lambda d: bills_table(d, title))

    @group.command("show")
    def show(bill_id: str = typer.Argument(..., help="Bill id (BILL-…)."),
             as_json: bool = typer.Option(False, "--json", help="Print the API's JSON.")) -> None:
        """Show a bill with its lines, total and the payment that settled it."""
        from cli.output import api_errors, emit
        from cli.render.bill import bill_card
        from core.api_client import BssClient

        with api_errors(as_json), BssClient() as client:
            data = {"customerBill": client.get(f"{BILLS}/{bill_id}"),
                    "appliedCustomerBillingRate": client.get(RATES, **{"bill.id": bill_id, "limit": MAX})}
        emit(data, as_json, lambda d: bill_card(d["customerBill"], d["appliedCustomerBillingRate"]))
