"""`bss order`: place, follow, show and cancel product orders (TMF622), from `operations.order`."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    """Add the `order` group to `app`."""
    from cli.operation_command import covers, invoke, register_group
    from cli.render.order import order_list, order_tree
    from operations import order as ops

    group = register_group(app, "order", "Product orders: order-to-activation.", [
        ("list", ops.list_, order_list),
        ("tree", ops.tree, order_tree),
        ("cancel", ops.cancel, lambda r, v: f"cancellation of [bold]{v['order_id']}[/] accepted ({r['state']})"),
    ])

    @group.command("create", help=ops.create.description)
    @covers(ops.create, "order create")
    def create(
        customer_id: Annotated[str | None, typer.Option("--customer", help="Customer id (CUST-…); modify/delete: "
                                                        "the line's owner when omitted.")] = None,
        offering: Annotated[str | None, typer.Option(help="Plan offering id, e.g. PLAN_M (add: the plan to order; "
                                                     "modify: the plan to move to).")] = None,
        action: Annotated[str, typer.Option(help="add (a new line) | modify (change --line's plan) | delete "
                                                 "(terminate --line).")] = "add",
        line: Annotated[str | None, typer.Option(help="The line a modify/delete order acts on (SUB-…).")] = None,
        msisdn: Annotated[str | None, typer.Option(help="A chosen available number (add).")] = None,
        request_id: Annotated[str | None, typer.Option(help="Your id; a retry with it returns the same order.")] = None,
        wait: Annotated[bool, typer.Option("--wait", help="Follow the order until it ends, showing progress.")] = False,
        timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait.")] = 120.0,
        as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
    ) -> None:
        from cli.output import api_errors, console, emit, print_json
        from core.api_client import BssClient

        order = invoke(ops.create, {"customer_id": customer_id, "offering": offering, "action": action, "line": line,
                                    "msisdn": msisdn, "request_id": request_id}, as_json)
        if not wait:
            emit(order, as_json, lambda o: f"order [bold]{o['id']}[/] {o['state']}: follow it with "
                                           f"`bss order show {o['id']}` (or order with --wait)")
            return
        with api_errors(as_json), BssClient() as client:
            view = _follow(client, ops, order["id"], timeout, quiet=as_json)
            final = ops.show(client, order_id=order["id"]) if as_json else None
        if as_json:
            print_json(final)
        else:
            console.print(order_tree(view))
            sub_id = view["order"].get("subscriptionId")
            if view["order"]["state"] == "completed" and sub_id and action == "add":  # a new line's eSIM
                from cli.render.esim import esim_card
                from operations.subscription import esim

                console.print(esim_card(invoke(esim, {"subscription_id": sub_id}, False)))
        if view["order"]["state"] != "completed":
            raise typer.Exit(1)

    @group.command("show", help="Show an order as its tree (as `order tree`); with --json, the TMF622 order.")
    @covers(ops.show, "order show")
    def show(order_id: Annotated[str, typer.Argument(help="Order id (ORD-…).")],
             as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON (the TMF622 order).")] = False
             ) -> None:
        from cli.output import emit

        emit(invoke(ops.show if as_json else ops.tree, {"order_id": order_id}, as_json), as_json, order_tree)


def _follow(client: Any, ops: Any, order_id: str, timeout: float, quiet: bool) -> dict:
    """Poll the order tree until the order ends, showing each step as it happens."""
    from cli.output import err_console

    deadline = time.monotonic() + timeout
    seen: str | None = None
    with err_console.status(f"order {order_id}: accepted", spinner="dots") as status:
        while True:
            view = ops.tree(client, order_id=order_id)
            order = view["order"]
            if order["step"] != seen:
                seen = order["step"]
                if not quiet:
                    err_console.print(f"  [dim]{time.strftime('%H:%M:%S')}[/] {order_id} → {seen}")
                status.update(f"order {order_id}: {seen}")
            if order["state"] in ops.FINAL or time.monotonic() > deadline:
                return view
            time.sleep(0.1)
