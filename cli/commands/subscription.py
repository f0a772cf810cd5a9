"""`bss subscription`: lines (TMF637 products) with their balances (TMF654 buckets), and their eSIM activation."""

from __future__ import annotations

from typing import Annotated, Any

import typer


def _table(products: list[dict[str, Any]], values: dict[str, Any]) -> Any:
    from cli.render.subscription import subscriptions_table

    customer, state = values.get("customer_id"), values.get("state")
    title = " · ".join(filter(None, ["Subscriptions", customer, state]))
    return subscriptions_table(products, title, show_customer=not customer)


def _card(data: dict[str, Any]) -> Any:
    from cli.render.subscription import subscription_card
    from core import clock

    return subscription_card(data["product"], data["bucket"], clock.now())


def register(app: typer.Typer) -> None:
    """Add the `subscription` group to `app` (`subscription_ops` adds the lifecycle writes)."""
    from cli.operation_command import covers, invoke, register_group
    from operations import subscription as ops

    group = register_group(app, "subscription", "Subscriptions (lines): eSIM, balances, lifecycle.", [
        ("show", ops.show, _card),
        ("list", ops.list_, _table),
    ])

    @group.command("esim", help="Show the line's eSIM activation code as a terminal QR, with masked ICCID and IMSI.")
    @covers(ops.esim, "subscription esim")
    def esim(subscription_id: Annotated[str, typer.Argument(help="Subscription id (SUB-…).")],
             no_qr: Annotated[bool, typer.Option("--no-qr", help="Leave out the QR code.")] = False,
             as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False) -> None:
        from cli.output import emit
        from cli.render.esim import esim_card

        emit(invoke(ops.esim, {"subscription_id": subscription_id}, as_json), as_json,
             lambda d: esim_card(d, show_qr=not no_qr))
