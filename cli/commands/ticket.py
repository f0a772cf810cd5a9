"""`bss ticket …`: open, list, show, transition, assign, note and delete TMF621 trouble tickets."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `ticket` group to `app`."""
    from cli.operation_command import register_group
    from cli.render.care import ticket_card, tickets_table
    from operations import ticket as ops

    register_group(app, "ticket", "Trouble tickets (TMF621): open, work, assign, note.", [
        ("open", ops.open_, ticket_card),
        ("list", ops.list_, tickets_table),
        ("show", ops.show, ticket_card),
        ("transition", ops.transition, ticket_card),
        ("assign", ops.assign, ticket_card),
        ("note", ops.note, ticket_card),
        ("delete", ops.delete, lambda d: f"[green]{d['id']} deleted[/]"),
    ])
