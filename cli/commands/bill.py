"""`bss bill`: customer bills (TMF678), one per charge, with their lines, payment and text document."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `bill` group to `app`."""
    from rich.text import Text

    from cli.operation_command import register_group
    from cli.render.bill import bill_card, bills_table
    from operations import bill as ops

    register_group(app, "bill", "Customer bills: activation, renewal and add-on charges.", [
        ("list", ops.list_, lambda bills, v: bills_table(
            bills, " · ".join(filter(None, ["Bills", v["customer_id"], v["subscription_id"]])))),
        ("show", ops.show, lambda d: bill_card(d["customerBill"], d["appliedCustomerBillingRate"])),
        ("document", ops.document, lambda text: Text(text.rstrip("\n"))),
        ("on-demand", ops.on_demand, lambda d: f"[green]{d['customerBill']['id']} issued[/] ({d['id']}, {d['state']})"),
    ])
