"""Human durations for operators and scenarios: `30d`, `12h`, `90m`, `1d12h`, `2w`, `45s`."""

from __future__ import annotations

import re
from datetime import timedelta

UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1),
         "m": timedelta(minutes=1), "s": timedelta(seconds=1)}
_PART = re.compile(r"(\d+)([wdhms])")
_WHOLE = re.compile(r"(?:\d+[wdhms])+")


def parse_duration(text: str) -> timedelta:
    """Parse `<n><unit>…` (units w, d, h, m, s, each at most once, largest first); raise ValueError."""
    compact = text.strip().lower().replace(" ", "")
    if not _WHOLE.fullmatch(compact):
        raise ValueError(f"{text!r} is not a duration like 30d, 12h, 90m or 1d12h")
    parts = _PART.findall(compact)
    units = [unit for _, unit in parts]
    order = list(UNITS)
    if len(set(units)) != len(units) or units != sorted(units, key=order.index):
        raise ValueError(f"{text!r}: give each unit once, largest first (e.g. 1d12h)")
    return sum((int(n) * UNITS[unit] for n, unit in parts), timedelta(0))


def format_duration(delta: timedelta) -> str:
    """Render a duration in the same notation, largest unit first (`0s` for zero, `-` prefix if negative)."""
    seconds = int(delta.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = int(UNITS[unit].total_seconds())
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + ("".join(parts) or "0s")
