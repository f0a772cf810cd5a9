"""Polling: repeat an attempt every `interval` until it succeeds or `timeout` has passed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
F = TypeVar("F")


@dataclass(frozen=True)
class Polled(Generic[T, F]):
    """How polling ended: the successful value or the last failure, and how many attempts it took."""

    value: T | None
    failure: F | None
    attempts: int


def poll(attempt: Callable[[], tuple[T | None, F | None]], interval: float, timeout: float,
         sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> Polled[T, F]:
    """Call `attempt` (returning `(value, None)` on success, `(None, failure)` otherwise) until it succeeds.

    The attempt always runs at least once; it is not retried once `timeout` seconds have passed
    since the first call, and the last failure is returned.
    """
    deadline = clock() + timeout
    attempts = 0
    while True:
        attempts += 1
        value, failure = attempt()
        if failure is None:
            return Polled(value, None, attempts)
        remaining = deadline - clock()
        if remaining <= 0:
            return Polled(None, failure, attempts)
        sleep(min(interval, remaining))
