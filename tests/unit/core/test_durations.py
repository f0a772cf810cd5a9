"""Durations as operators and scenario files write them (`bss clock advance 30d`, `advance: 12h`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.durations import format_duration, parse_duration


@pytest.mark.parametrize(("text", "expected"), [
    ("30d", timedelta(days=30)),
    ("12h", timedelta(hours=12)),
    ("90m", timedelta(minutes=90)),
    ("45s", timedelta(seconds=45)),
    ("2w", timedelta(days=14)),
    ("1d12h", timedelta(days=1, hours=12)),
    ("1w2d3h4m5s", timedelta(days=9, hours=3, minutes=4, seconds=5)),
    (" 30D ", timedelta(days=30)),
    ("1d 12h", timedelta(days=1, hours=12)),
    ("0d", timedelta(0)),
])
def test_parses_units_and_combinations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "30x", "-5d", "1.5d", "P30D", "12h1d", "1d1d", "30 days", "1d-2h"])
def test_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(days=30), "30d"),
    (timedelta(days=1, hours=12), "1d12h"),
    (timedelta(minutes=90), "1h30m"),
    (timedelta(0), "0s"),
    (timedelta(days=-2), "-2d"),
])
def test_formats_largest_unit_first(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text
    assert parse_duration(text.lstrip("-")) == abs(delta)
