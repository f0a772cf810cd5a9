"""`bss workflow`: what Temporal is running — lists, stuck orders, histories, Web UI links (through the Ops API)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `workflow` group to `app`."""
    from cli.operation_command import register_group
    from cli.render import workflow as cards
    from operations import workflow as ops

    register_group(app, "workflow", "Temporal workflows behind orders and lines.", [
        ("list", ops.list_, cards.workflows_table),
        ("stuck", ops.stuck, cards.stuck_view),
        ("show", ops.show, cards.workflow_card),
        ("history", ops.history, cards.history_view),
    ])
