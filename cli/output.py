"""Console output shared by every command: Rich consoles that degrade cleanly without a TTY."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """Print `data` as JSON on stdout (for `--json`), nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 1) -> None:
    """Print an error panel on stderr and exit with `code`."""
    from rich.panel import Panel

    err_console.print(Panel(message, title="error", border_style="red", expand=False))
    raise SystemExit(code)
