"""`bss order`: place, follow, show and cancel product orders (TMF622)."""

from __future__ import annotations

import time

import typer

ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
CANCEL = "/tmf-api/productOrderingManagement/v4/cancelProductOrder"
FINAL = ("completed", "failed", "cancelled")


def _tree_path(order_id: str) -> str:
    return f"/bss-api/v1/order/{order_id}/tree"


def register(app: typer.Typer) -> None:
    """Add the `order` group to `app`."""
    group = typer.Typer(help="Product orders: order-to-activation.", no_args_is_help=True)
    app.add_typer(group, name="order")

    @group.command("create")
    def create(
        customer_id: str = typer.Option(..., "--customer", help="Customer id (CUST-…)."),
        offering: str = typer.Option(..., "--offering", help="Plan offering id, e.g. PLAN_M."),
        msisdn: str | None = typer.Option(None, "--msisdn", help="A chosen available number."),
        external_id: str | None = typer.Option(None, "--request-id", help="Your id; a retry returns the same order."),
        wait: bool = typer.Option(False, "--wait", help="Follow the order until it ends, showing progress."),
        timeout: float = typer.Option(120.0, "--timeout", help="Seconds to wait with --wait."),
        as_json: bool = typer.Option(False, "--json", help="Print the API's JSON."),
    ) -> None:
        """Order a plan for a customer: reserve, charge, provision, activate."""
        from cli.output import api_errors, console, emit, print_json
        from cli.render.order import order_tree
        from core.api_client import BssClient

        item: dict = {"id": "1", "action": "add", "quantity": 1,
                      "productOffering": {"id": offering, "@referredType": "ProductOffering"}}
        if msisdn:
            item["product"] = {"productCharacteristic": [{"name": "msisdn", "value": msisdn}]}
        body: dict = {"relatedParty": [{"id": customer_id, "role": "customer", "@referredType": "Customer"}],
                      "productOrderItem": [item]}
        if external_id:
            body["externalId"] = external_id
        with api_errors(as_json), BssClient() as client:
            order = client.post(ORDERS, body)
            if not wait:
                emit(order, as_json, lambda o: f"order [bold]{o['id']}[/] {o['state']}: follow it with "
                                               f"`bss order show {o['id']}` (or order with --wait)")
                return
            view = _follow(client, order["id"], timeout, quiet=as_json)
            final = client.get(f"{ORDERS}/{order['id']}")
        if as_json:
            print_json(final)
        else:
            console.print(order_tree(view))
            sub_id = view["order"].get("subscriptionId")
            if view["order"]["state"] == "completed" and sub_id:
                _show_esim(sub_id)
        if view["order"]["state"] != "completed":
            raise typer.Exit(1)

    @group.command("show")
    def show(order_id: str = typer.Argument(..., help="Order id (ORD-…)."),
             as_json: bool = typer.Option(False, "--json", help="Print the API's JSON.")) -> None:
        """Show the order tree: order → service order → CFS → RFS → tasks."""
        from cli.output import api_errors, emit
        from cli.render.order import order_tree
        from core.api_client import BssClient

        with api_errors(as_json), BssClient() as client:
            data = client.get(f"{ORDERS}/{order_id}") if as_json else client.get(_tree_path(order_id))
        emit(data, as_json, order_tree)

    @group.command("list")
    def list_orders(
        customer_id: str | None = typer.Option(None, "--customer", help="Only this customer's orders."),
        state: str | None = typer.Option(None, "--state", help="acknowledged|inProgress|completed|failed|cancelled"),
        limit: int = typer.Option(20, "--limit", help="How many."),
        as_json: bool = typer.Option(False, "--json", help="Print the API's JSON."),
    ) -> None:
        """List recent orders."""
        from cli.output import api_errors, emit
        from cli.render.order import order_list
        from core.api_client import BssClient

        with api_errors(as_json), BssClient() as client:
            orders = client.get(ORDERS, **{"relatedParty.id": customer_id, "state": state, "limit": limit})
        emit(orders, as_json, order_list)

    @group.command("cancel")
    def cancel(order_id: str = typer.Argument(..., help="Order id (ORD-…)."),
               reason: str = typer.Option("cancelled by operator", "--reason", help="Why."),
               yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
               as_json: bool = typer.Option(False, "--json", help="Print the API's JSON.")) -> None:
        """Cancel an order before provisioning starts; reservations and charge are undone."""
        from cli.output import api_errors, emit
        from core.api_client import BssClient

        if not yes:
            typer.confirm(f"Cancel {order_id}?", abort=True)
        with api_errors(as_json), BssClient() as client:
            result = client.post(CANCEL, {"productOrder": {"id": order_id, "@referredType": "ProductOrder"},
                                          "cancellationReason": reason})
        emit(result, as_json, lambda r: f"cancellation of [bold]{order_id}[/] accepted ({r['state']})")


def _follow(client, order_id: str, timeout: float, quiet: bool) -> dict:  # noqa: ANN001
    """Poll the order tree until the order ends, showing each step as it happens."""
    from cli.output import err_console

    deadline = time.monotonic() + timeout
    seen: str | None = None
    with err_console.status(f"order {order_id}: accepted", spinner="dots") as status:
        while True:
            view = client.get(_tree_path(order_id))
            order = view["order"]
            if order["step"] != seen:
                seen = order["step"]
                if not quiet:
                    err_console.print(f"  [dim]{time.strftime('%H:%M:%S')}[/] {order_id} → {seen}")
                status.update(f"order {order_id}: {seen}")
            if order["state"] in FINAL or time.monotonic() > deadline:
                return view
            time.sleep(0.1)


def _show_esim(subscription_id: str) -> None:
    from cli.output import console
    from cli.render.esim import esim_card
    from core.api_client import BssClient

    with BssClient() as client:
        console.print(esim_card(client.get(f"/bss-api/v1/subscription/{subscription_id}/esim")))
