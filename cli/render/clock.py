"""Scenario-time cards: the clock (`bss clock now`) and the outcome of an advance."""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.table import Table

from cli.render.style import card


def _stamp(value: str | None) -> str:
    return f"{value[:19].replace('T', ' ')} UTC" if value else "—"


def _grid() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    return grid


def _mode(data: dict[str, Any]) -> str:
    return "[yellow]scenario time[/] (time skipping)" if data.get("timeSkipping") else "real time"


def clock_card(data: dict[str, Any]) -> RenderableType:
    """Business now, the wall clock under it, the offset between them and the stack's time mode."""
    grid = _grid()
    grid.add_row("now", f"[bold]{_stamp(data['now'])}[/]")
    grid.add_row("wall clock", _stamp(data.get("wallClock")))
    grid.add_row("offset", f"+{data['offset']}" if data.get("offsetSeconds") else "none")
    grid.add_row("mode", _mode(data))
    return card("Clock", grid)


def advance_card(data: dict[str, Any]) -> RenderableType:
    """What an advance did: from → to, the new offset, and how the open workflows followed."""
    moved = data["workflows"]
    grid = _grid()
    grid.add_row("advanced by", f"[bold]{data['advancedBy']}[/]")
    grid.add_row("from", _stamp(data.get("previousNow")))
    grid.add_row("to", f"[bold]{_stamp(data['now'])}[/]")
    grid.add_row("offset", f"+{data['offset']}")
    summary = f"{moved['moved']} of {moved['open']} moved"
    if moved["ended"]:
        summary += f", {moved['ended']} ended on the way"
    grid.add_row("workflows", summary)
    for workflow_id in moved["timedOut"]:
        grid.add_row("[red]timed out[/]", f"{workflow_id} (still moving; check `bss workflow`)")
    for failure in moved["failed"]:
        grid.add_row("[red]failed[/]", f"{failure['workflowId']}: {failure['error']}")
    elapsed = data["elapsedMs"]
    grid.add_row("took", f"{elapsed / 1000:.1f} s" if elapsed >= 1000 else f"{elapsed} ms")
    return card("Clock advanced", grid)
