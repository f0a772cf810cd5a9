"""`bss usage`: send a network usage event (TMF635) and read a number's or a line's usage."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `usage` group to `app`."""
    from cli.operation_command import register_group
    from cli.render.usage import history_table, usage_card
    from operations import usage as ops

    register_group(app, "usage", "Usage events: rate one against a line's bundle, or show a line's history and daily totals.", [
        ("simulate", ops.simulate, usage_card),
        ("history", ops.history, lambda items, v: history_table(items, v["msisdn"] or v["subscription_id"])),
        ("show", ops.show, usage_card),
        ("daily", ops.daily, None),
    ])
