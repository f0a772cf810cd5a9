"""Deadline-bounded waits: poll the state a test needs instead of sleeping and hoping it got there."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def until(check: Callable[[], Awaitable[T]], what: str, timeout: float = 10.0, every: float = 0.05) -> T:
    """Poll `check()` until it returns something truthy and return that; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (result := await check()):
        assert time.monotonic() < deadline, f"{what} (not within {timeout} s)"
        await asyncio.sleep(every)
    return result
