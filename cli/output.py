"""Console output shared by every command: Rich consoles that degrade cleanly without a TTY."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console

# Rich already honours NO_COLOR and drops colour when stdout is not a terminal.
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """Print `data` as JSON on stdout (for `--json`), nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 1, title: str = "error") -> None:
    """Print an error panel on stderr and exit with `code`."""
    from rich.panel import Panel

    err_console.print(Panel(message, title=title, border_style="red", expand=False))
    raise SystemExit(code)


def emit(data: Any, as_json: bool, render: Callable[[Any], Any]) -> None:
    """Print the API's JSON with `--json`, else the Rich renderable `render(data)` builds."""
    if as_json:
        print_json(data)
    else:
        console.print(render(data))


@contextmanager
def api_errors(as_json: bool = False) -> Iterator[None]:
    """Turn an `ApiError` into a readable panel (or the TMF error JSON) and a non-zero exit."""
    from core.api_client import ApiError

    try:
        yield
    except ApiError as exc:
        if as_json:
            print_json(exc.body)
            raise SystemExit(2 if exc.status < 500 else 1) from None
        lines = [f"[bold]{exc.code}[/]", exc.message]
        for violation in exc.body.get("violations") or []:
            if violation.get("code") != exc.code:
                lines.append(f"[bold]{violation['code']}[/] {violation.get('message', '')}")
        if exc.context:
            lines.append("[dim]" + ", ".join(f"{k}={v}" for k, v in exc.context.items()) + "[/]")
        fail("\n".join(lines), code=2 if exc.status < 500 else 1, title=f"refused ({exc.status})")
