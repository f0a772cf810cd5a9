"""`bss events`: TMF hub listeners and their deliveries — list, replay failed ones (through the Ops API)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `events` group to `app`."""
    from cli.operation_command import register_group
    from operations import events as ops

    register_group(app, "events", "TMF event hubs: listeners, deliveries, replays.", [
        ("subscribe", ops.subscribe, None),
        ("unsubscribe", ops.unsubscribe, None),
        ("hubs", ops.hubs, None),
        ("deliveries", ops.deliveries, None),
        ("replay", ops.replay, None),
    ])
