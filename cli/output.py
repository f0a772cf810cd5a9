"""Console output shared by every command: Rich consoles that degrade cleanly without a TTY."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from rich.console import Console

# Rich already honours NO_COLOR and drops colour when stdout is not a terminal; both consoles find
# sys.stdout / sys.stderr when they write, so a test runner's capture (or `ascii_fallback`) is used.
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

# How the cards' symbols read on a stream that cannot encode them (an ASCII or Latin-1 locale).
ASCII_SPELLING = str.maketrans({
    "—": "-", "–": "-", "−": "-", "─": "-", "…": "...", "•": "*", "·": "-", "→": "->", "⚠": "!",
    "█": "#", "░": ".", "★": "*", "●": "*", "∞": "inf", "×": "x", "✓": "v", "✔": "v", "✗": "x", "✘": "x",
    "│": "|", "└": "`", "╰": "+", "╯": "+", "▐": "|", "▏": "|", "§": "S",
})
UNICODE_PROBE = "╭─█░•⚠→"


class _AsciiSpelling:
    """A text stream that spells the cards' symbols in ASCII and replaces what its encoding lacks."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        """Write `text` with symbols spelled out and unencodable characters as `?`."""
        encoding = self._stream.encoding or "ascii"
        return self._stream.write(text.translate(ASCII_SPELLING).encode(encoding, "replace").decode(encoding))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)  # encoding, isatty, fileno, flush: Rich picks ASCII boxes from these


def _carries_unicode(stream: IO[str] | None) -> bool:
    try:
        UNICODE_PROBE.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def ascii_fallback() -> None:
    """Make stdout and stderr safe for cards when their encoding cannot carry box and bar symbols."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, _AsciiSpelling) and not _carries_unicode(stream):
            setattr(sys, name, _AsciiSpelling(stream))


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


def call_api(as_json: bool, method: str, path: str, body: Any = None, **params: Any) -> Any:
    """Call the API once, refusals shown as `api_errors` shows them (GET sends `params`, others a JSON body)."""
    from core.api_client import BssClient

    with api_errors(as_json), BssClient() as client:
        if method == "GET":
            return client.get(path, **params)
        return client.request(method, path, json=body)
