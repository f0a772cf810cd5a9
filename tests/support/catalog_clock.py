"""The catalog tests' instant: business time frozen at T0, two months after the reference data became valid.

The API runs in the test process, so it sees the same instant. Import `frozen_clock` into a test
module to freeze every test there (it is autouse).
"""

import datetime as dt

import pytest

from core import clock

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    """Every test starts at T0."""
    clock.freeze(T0)
    yield
    clock.unfreeze()
