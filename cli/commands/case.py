"""`bss case …`: open, list, show, note, transition, assign, close and cancel customer cases."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `case` group to `app`."""
    from cli.operation_command import register_group
    from cli.render.care import case_card, cases_table
    from operations import case as ops

    register_group(app, "case", "Customer cases: open, work, note and close.", [
        ("open", ops.open_, case_card),
        ("list", ops.list_, cases_table),
        ("show", ops.show, case_card),
        ("note", ops.note, lambda n, v: f"[green]note {n['id']} added to {v['case_id']}[/]"),
        ("transition", ops.transition, case_card),
        ("assign", ops.assign, case_card),
        ("close", ops.close, case_card),
        ("cancel", ops.cancel, case_card),
    ])
