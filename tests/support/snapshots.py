"""Snapshot tests for ASCII cards: render at a fixed width without colour, compare to a file.

Regenerate with `BSS_UPDATE_SNAPSHOTS=1 make test` and review the diff like code.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console, RenderableType

SNAPSHOT_DIR = Path(__file__).resolve().parent.parent / "snapshots"


def render_text(renderable: RenderableType, width: int = 100) -> str:
    """Render as plain text the way a 100-column terminal without colour shows it."""
    console = Console(width=width, record=True, color_system=None, force_terminal=False, legacy_windows=False)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


def assert_snapshot(name: str, renderable: RenderableType, width: int = 100) -> None:
    """Compare the rendering with `tests/snapshots/<name>.txt` (write it when updating)."""
    text = render_text(renderable, width)
    path = SNAPSHOT_DIR / f"{name}.txt"
    if os.environ.get("BSS_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if os.environ.get("CI"):
            raise AssertionError(f"snapshot {name} was missing in CI; commit tests/snapshots/{name}.txt")
        return
    expected = path.read_text()
    assert text == expected, f"card {name} changed:\n--- expected\n{expected}\n--- got\n{text}"
