"""`bss ping`: prove the write path (API → Temporal → worker → database) end to end."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add `ping` to `app`."""
    from cli.operation_command import command, covers
    from cli.render.workflow import ping_card
    from operations import diagnostics as ops

    app.command("ping")(covers(ops.ping, "ping")(command(ops.ping, ping_card)))
