"""`bss subscription`: lines (TMF637 products) with their balances (TMF654 buckets), and their eSIM activation."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

PRODUCTS = "/tmf-api/productInventory/v4/product"
BUCKETS = "/tmf-api/prepayBalanceManagement/v4/bucket"
# Our line states as TMF637 `status` values (the API filters on the TMF names).
STATUS_OF_STATE = {"pending": "pendingActive", "active": "active", "blocked": "suspended", "terminated": "terminated"}


class LineState(StrEnum):
    """The line states `--state` accepts."""

    PENDING = "pending"
    ACTIVE = "active"
    BLOCKED = "blocked"
    TERMINATED = "terminated"


def register(app: typer.Typer) -> None:
    """Add the `subscription` group to `app`."""
    group = typer.Typer(help="Subscriptions (lines): eSIM, balances, lifecycle.", no_args_is_help=True)
    app.add_typer(group, name="subscription")

    @group.command("esim")
    def esim(subscription_id: str = typer.Argument(..., help="Subscription id (SUB-…)."),
             no_qr: bool = typer.Option(False, "--no-qr", help="Leave out the QR code."),
             as_json: bool = typer.Option(False, "--json", help="Print the API's JSON.")) -> None:
        """Show the line's eSIM activation code as a terminal QR, with masked ICCID and IMSI."""
        from cli.output import api_errors, emit
        from cli.render.esim import esim_card
        from core.api_client import BssClient

        with api_errors(as_json), BssClient() as client:
            data = client.get(f"/bss-api/v1/subscription/{subscription_id}/esim")
        emit(data, as_json, lambda d: esim_card(d, show_qr=not no_qr))

    @group.command("show")
    def show(subscription_id: str = typer.Argument(..., help="Subscription id (SUB-…)."),
             as_json: bool = typer.Option(False, "--json", help="Print the API's JSON.")) -> None:
        """Show a line: state, plan, snapshot price, number, period and a bar per bundle allowance."""
        from cli.output import api_errors, emit
        from cli.render.subscription import subscription_card
        from core import clock
        from core.api_client import BssClient

        with api_errors(as_json), BssClient() as client:
            data = {"product": client.get(f"{PRODUCTS}/{subscription_id}"),
                    "bucket": client.get(BUCKETS, **{"product.id": subscription_id, "limit": 100})}
        emit(data, as_json, lambda d: subscription_card(d["product"], d["bucket"], clock.now()))

    @group.command("list")
    def list_(customer_id: str | None = typer.Option(None, "--customer", help="Only this customer's lines."),
              line_state: Annotated[LineState | None, typer.Option("--state", help="Only lines in this state.")] = None,
              limit: int = typer.Option(100, "--limit", min=1, max=1000, help="At most this many lines."),
              as_json: bool = typer.Option(False, "--json", help="Print the API's JSON.")) -> None:
        """List lines, optionally of one customer and in one state."""
        from cli.output import api_errors, emit
        from cli.render.subscription import subscriptions_table
        from core.api_client import BssClient

        params = {"relatedParty.id": customer_id, "status": STATUS_OF_STATE[line_state] if line_state else None, "limit": limit}
        with api_errors(as_json), BssClient() as client:
            products = client.get(PRODUCTS, **params)
        title = " · ".join(filter(None, ["Subscriptions", customer_id, line_state and line_state.value]))
        emit(products, as_json, lambda d: subscriptions_table(d, title, show_customer=not customer_id))
