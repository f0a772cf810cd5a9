"""`bss interaction …`: the TMF683 contact log of customers (list, log one)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `interaction` group to `app`."""
    from rich.markup import escape

    from cli.operation_command import register_group
    from cli.render.customer import interactions_table
    from operations import interaction as ops

    register_group(app, "interaction", "Customer interactions (TMF683): list and log.", [
        ("list", ops.list_, interactions_table),
        ("log", ops.log, lambda d, v: f"[green]logged {d['id']}[/] for {v['customer_id']} on "
                                      f"{escape(v['channel'])}: {escape(d['reason'])}"),
    ])
