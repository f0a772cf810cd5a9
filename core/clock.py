"""The injected clock: business code asks `clock.now()`, never the OS.

Tests freeze it; scenario mode shifts it by a stack-wide offset (DESIGN.md §6). Workflows
never use this module: they use `workflow.now()` and receive `as_of` from their inputs.
"""

from __future__ import annotations

import datetime as _dt
import time as _time
from collections.abc import Iterator
from contextlib import contextmanager

UTC = _dt.UTC

_frozen_at: _dt.datetime | None = None
_offset = _dt.timedelta(0)


def now() -> _dt.datetime:
    """Return the current business time (timezone-aware UTC)."""
    if _frozen_at is not None:
        return _frozen_at
    return _dt.datetime.now(UTC) + _offset


def wall_now() -> _dt.datetime:
    """Real UTC time, never frozen or shifted: for security lifetimes (portal sessions, login codes, mail stamps).

    A scenario clock moved on by days must neither log people out nor keep a code alive.
    """
    return _dt.datetime.now(UTC)


def instrument_ns() -> int:
    """Wall-clock epoch nanoseconds for telemetry timestamps (span times), never frozen or shifted: not business time."""
    return _time.time_ns()


def set_offset(offset: _dt.timedelta) -> None:
    """Shift business time by a fixed offset from the wall clock (scenario mode only)."""
    global _offset
    _offset = offset


def offset() -> _dt.timedelta:
    """Return the offset currently applied to the wall clock."""
    return _offset


def freeze(at: _dt.datetime) -> None:
    """Stop the clock at `at` (tests)."""
    global _frozen_at
    if at.tzinfo is None:
        raise ValueError("the clock only deals in timezone-aware datetimes")
    _frozen_at = at


def unfreeze() -> None:
    """Let the clock run again."""
    global _frozen_at
    _frozen_at = None


def advance(delta: _dt.timedelta) -> None:
    """Move a frozen clock forward (tests)."""
    if _frozen_at is None:
        raise RuntimeError("advance() needs a frozen clock; use set_offset() for a running one")
    freeze(_frozen_at + delta)


@contextmanager
def frozen(at: _dt.datetime) -> Iterator[None]:
    """Freeze the clock for the duration of a `with` block."""
    freeze(at)
    try:
        yield
    finally:
        unfreeze()
