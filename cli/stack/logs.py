"""Tail and follow the component logs in `settings.log_dir` (`bss logs`)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

FOLLOW_INTERVAL_S = 0.2
START_MARKER = "=== bss up: "  # written by procs.spawn before each start


def tail_lines(path: Path, count: int) -> list[str]:
    """Return the last `count` lines of `path` (empty when the file does not exist)."""
    try:
        with path.open("rb") as handle:
            return [line.decode(errors="replace").rstrip("\n") for line in deque(handle, maxlen=count)]
    except OSError:
        return []


def current_run_tail(path: Path, count: int) -> list[str]:
    """Return the last `count` lines written since the latest start marker of `bss up`."""
    lines = tail_lines(path, 2000)
    starts = [i for i, line in enumerate(lines) if line.startswith(START_MARKER)]
    return (lines[starts[-1]:] if starts else lines)[-count:]


def follow(paths: dict[str, Path], should_stop: Callable[[], bool] = lambda: False,
           interval_s: float = FOLLOW_INTERVAL_S) -> Iterator[tuple[str, str]]:
    """Yield (name, line) for every line appended to `paths` from now on, until `should_stop()`.

    A file that shrinks (rotated or truncated) is read again from its start.
    """
    offsets = {name: (path.stat().st_size if path.exists() else 0) for name, path in paths.items()}
    partial = dict.fromkeys(paths, b"")
    while not should_stop():
        for name, path in paths.items():
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if size < offsets[name]:
                offsets[name], partial[name] = 0, b""
            if size == offsets[name]:
                continue
            with path.open("rb") as handle:
                handle.seek(offsets[name])
                chunk = handle.read(size - offsets[name])
            offsets[name] = size
            *lines, partial[name] = (partial[name] + chunk).split(b"\n")
            for line in lines:
                yield name, line.decode(errors="replace")
        time.sleep(interval_s)
