"""Server-rendered SVG charts for the portals: a line's usage per day and its balance bars.

Pure functions from numbers to markup (no I/O, no JavaScript, no chart library), shared by the
self-serve dashboard and the CSR 360 page. A chart is an `<svg role="img">` with a `<title>` and a
`<desc>` that say what it shows in words (screen readers read those, not the bars), a `viewBox` so
it scales to any width (360 px phones included), and a `<title>` per bar for a hover tooltip.
Quantities are in base units (MB, seconds, count), formatted only here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

# (key in the daily usage body, chart title, base unit)
USAGE_SERIES = (("data", "Data", "MB"), ("voice", "Calls", "s"), ("sms", "SMS", "sms"))
WIDTH, HEIGHT = 320, 120
PLOT_TOP, PLOT_BOTTOM, PLOT_LEFT, PLOT_RIGHT = 8, 100, 44, 316


def quantity(value: int, unit: str) -> str:
    """A base-unit amount for people: `1.5 GB`, `300 MB`, `12 min`, `1.5 min`, `45 s`, `3 SMS`."""
    if unit == "MB":
        if value >= 1024:
            return f"{value / 1024:.1f}".removesuffix(".0") + " GB"
        return f"{value} MB"
    if unit == "s":
        return f"{value / 60:.1f}".removesuffix(".0") + " min" if value >= 60 else f"{value} s"
    return f"{value} SMS"


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 × 10^k at or above `value` (at least 1): a round top for an axis."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def axis_top(peak: int, unit: str) -> int:
    """A round axis top for `peak`: in GB steps for data above 1 GB, in minutes for calls above a minute."""
    if unit == "MB" and peak > 1024:
        return nice_ceiling(math.ceil(peak / 1024)) * 1024
    if unit == "s" and peak > 60:
        return nice_ceiling(math.ceil(peak / 60)) * 60
    return nice_ceiling(peak)


def day_labels(starts: Sequence[str | None]) -> list[str]:
    """`Day 3 (9 Dec)` for each day's start (ISO date-time), `Day 3` when it has none."""
    labels = []
    for index, start in enumerate(starts, 1):
        when = dt.datetime.fromisoformat(start) if start else None
        labels.append(f"Day {index} ({when.day} {when:%b})" if when else f"Day {index}")
    return labels


def bar_chart(values: Sequence[int], unit: str, title: str, *, current: int | None = None,
              labels: Sequence[str] = (), ident: str = "chart") -> Markup:
    """An SVG bar chart of one value per day; days after `current` (1-based) are to come and drawn empty."""
    count = max(len(values), 1)
    seen = list(values[:current] if current else values)
    peak, total = max(seen, default=0), sum(seen)
    top = axis_top(peak, unit)
    slot = (PLOT_RIGHT - PLOT_LEFT) / count
    width = max(slot * 0.7, 1.0)
    height = PLOT_BOTTOM - PLOT_TOP
    so_far = f"day {current} of {len(values)}" if current else f"{len(values)} days"
    desc = (f"{quantity(total, unit)} used so far this period ({so_far}); the busiest day used "
            f"{quantity(peak, unit)}.")
    parts = [(f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="{ident}-t {ident}-d" preserveAspectRatio="xMidYMid meet">'),
             f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>',
             f'<line class="axis" x1="{PLOT_LEFT}" y1="{PLOT_BOTTOM}" x2="{PLOT_RIGHT}" y2="{PLOT_BOTTOM}"/>',
             f'<line class="grid" x1="{PLOT_LEFT}" y1="{PLOT_TOP}" x2="{PLOT_RIGHT}" y2="{PLOT_TOP}"/>',
             (f'<text class="tick" x="{PLOT_LEFT - 4}" y="{PLOT_TOP + 4}" text-anchor="end">'
             f'{escape(quantity(top, unit))}</text>'),
             f'<text class="tick" x="{PLOT_LEFT - 4}" y="{PLOT_BOTTOM}" text-anchor="end">0</text>']
    for index, value in enumerate(values):
        day = index + 1
        x = PLOT_LEFT + index * slot + (slot - width) / 2
        if current and day > current:
            parts.append(f'<rect class="future" x="{x:.1f}" y="{PLOT_BOTTOM - 1}" width="{width:.1f}" height="1"/>')
            continue
        label = labels[index] if index < len(labels) else f"Day {day}"
        tall = height * value / top if value else 0
        cls = "bar today" if day == current else "bar"
        parts.append(f'<rect class="{cls}" x="{x:.1f}" y="{PLOT_BOTTOM - tall:.1f}" width="{width:.1f}" '
                     f'height="{tall:.1f}"><title>{escape(label)}: {escape(quantity(value, unit))}</title></rect>')
    last = len(values)
    parts.append(f'<text class="tick" x="{PLOT_LEFT}" y="{HEIGHT - 4}">Day 1</text>')
    if last > 1:
        parts.append(f'<text class="tick" x="{PLOT_RIGHT}" y="{HEIGHT - 4}" text-anchor="end">Day {last}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def usage_charts(daily: dict[str, Any], ident: str = "usage") -> list[tuple[str, Markup]]:
    """(title, SVG) for data, calls and SMS of a daily usage body (`usage.daily`); none without a period."""
    days = daily.get("days") or []
    if not days:
        return []
    labels = day_labels([d.get("start") for d in days])  # once for the three charts
    return [(title, bar_chart([int(d.get(key, 0)) for d in days], unit, f"{title} used per day", labels=labels,
                              current=daily.get("currentDay"), ident=f"{ident}-{key}"))
            for key, title, unit in USAGE_SERIES]


@dataclass(frozen=True)
class Gauge:
    """A balance bar: what is left of what the bundle gives."""

    label: str
    left: str        # `3.5 GB left`, `Unlimited`
    of: str          # `of 5 GB`, '' when unlimited
    percent: int     # 0-100 of the bar that is filled (100 for unlimited)
    unlimited: bool
    low: bool        # under 20 % left: the bar says so in colour and words

    @property
    def words(self) -> str:
        """The bar's value in words (the `aria-valuetext`)."""
        return "unlimited" if self.unlimited else f"{self.left} {self.of}".strip()


def gauge(label: str, remaining: int | None, total: int | None, unit: str, unlimited: bool = False) -> Gauge:
    """A balance bar from a bucket's remaining and total (base units); unlimited when the bucket says so."""
    if unlimited or remaining is None or total is None or total < 0:
        return Gauge(label, "Unlimited", "", 100, True, False)
    remaining = max(0, min(remaining, total))
    percent = round(100 * remaining / total) if total else 0
    return Gauge(label, f"{quantity(remaining, unit)} left", f"of {quantity(total, unit)}", percent, False,
                 total > 0 and remaining * 5 < total)
