"""The REPL's opening card: the stack's health (what `bss status` probes, nothing started), the API it
talks to, and whether the agent is on (or which settings turn it on)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cli.render.style import CARD_BOX

if TYPE_CHECKING:
    from cli.stack.status import ComponentStatus
    from core.settings import Settings

HEALTH_MARKS = {"healthy": ("●", "green"), "starting": ("◐", "yellow"), "down": ("○", "red")}


def stack_health(settings: Settings) -> tuple[list[ComponentStatus], bool | None]:
    """Each component's health, and whether the API the CLI calls answers (None: it is the stack's own)."""
    from cli.stack import probes
    from cli.stack.status import collect

    rows = collect(settings)
    api_up = None
    if settings.api_url:  # the CLI talks to an API of its own choosing: probe that one too
        from urllib.parse import urlsplit

        parts = urlsplit(settings.api_url)
        api_up = probes.http_ok(parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80))
    return rows, api_up


def banner(settings: Settings, rows: list[ComponentStatus], api_up: bool | None, agent_on: bool,
           agent_label: str, no_model: str) -> RenderableType:
    """The card printed when the REPL opens."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    health = Text()
    for row in rows:
        mark, style = HEALTH_MARKS.get(row.health, ("?", ""))
        if len(health):
            health.append("  ")
        health.append(f"{mark} ", style=style)
        health.append(row.name)
    up = sum(row.health == "healthy" for row in rows)
    if rows and up < len(rows):
        health.append(f"  · {up}/{len(rows)} healthy" + (" · bss up" if up == 0 else ""), style="dim")
    grid.add_row("stack", health)
    api = Text(settings.api_base_url)
    if api_up is not None:
        api.append("  ")
        api.append("answers" if api_up else "does not answer", style="green" if api_up else "red")
    grid.add_row("API", api)
    if agent_on:
        grid.add_row("agent", Text(f"on · {agent_label}", style="green"))
    else:
        grid.add_row("agent", Text(f"off · {no_model}; /run and the slash commands work without it", style="yellow"))
    grid.add_row("", Text("/help lists the commands · /run OP ARGS runs an operation · Tab completes · Ctrl-D exits",
                          style="dim"))
    return Panel(grid, title=Text("BSS-CLI cockpit", style="bold"), box=CARD_BOX, expand=False, padding=(0, 1))
