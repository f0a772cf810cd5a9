"""The injected clock: frozen in tests, offset in scenario mode, always timezone-aware."""

import datetime as dt

import pytest

from core import clock

T0 = dt.datetime(2026, 1, 31, 23, 59, tzinfo=dt.timezone.utc)


def test_frozen_clock_returns_the_frozen_instant_and_advances_exactly():
    with clock.frozen(T0):
        assert clock.now() == T0
        clock.advance(dt.timedelta(minutes=2))
        assert clock.now() == T0 + dt.timedelta(minutes=2)
    assert clock.now() != T0 + dt.timedelta(minutes=2)


def test_offset_shifts_running_time():
    before = clock.now()
    clock.set_offset(dt.timedelta(days=30))
    try:
        assert clock.now() - before >= dt.timedelta(days=30)
    finally:
        clock.set_offset(dt.timedelta(0))


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        clock.freeze(dt.datetime(2026, 1, 1))


def test_advance_needs_a_frozen_clock():
    with pytest.raises(RuntimeError):
        clock.advance(dt.timedelta(seconds=1))
