"""Rules of scenario time: the stack clock only moves on a time-skipping dev stack, and only forward."""

from __future__ import annotations

from datetime import timedelta

from core.errors import Violation
from policies.base import violation

# One fast-forward per open workflow moves it this far at most; a decade covers any scenario.
MAX_ADVANCE = timedelta(days=3650)


def check_advance(time_skipping: bool, delta: timedelta) -> list[Violation]:
    """Refuse moving the clock outside scenario mode, backwards, by nothing or by more than MAX_ADVANCE."""
    if not time_skipping:
        return [violation("clock.advance.requires_time_skipping",
                          "the clock only moves on a stack started with `bss up --time-skipping` (dev only)")]
    if delta <= timedelta(0):
        return [violation("clock.advance.duration_positive", "time only moves forward: give a positive duration",
                          seconds=int(delta.total_seconds()))]
    if delta > MAX_ADVANCE:
        return [violation("clock.advance.duration_too_long", f"advance at most {MAX_ADVANCE.days} days at a time",
                          seconds=int(delta.total_seconds()))]
    return []
