"""Polling: attempts until success or timeout, on a fake clock (no real sleeping)."""

from __future__ import annotations

from cli.scenario.polling import poll


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _attempts(outcomes: list[str]):
    calls = iter(outcomes)

    def attempt() -> tuple[str | None, str | None]:
        value = next(calls)
        return (value, None) if value == "ok" else (None, value)
    return attempt


def test_polls_until_the_attempt_succeeds():
    clock = FakeClock()
    result = poll(_attempts(["no", "still no", "ok"]), interval=0.5, timeout=10, sleep=clock.sleep, clock=clock.time)
    assert (result.value, result.failure, result.attempts) == ("ok", None, 3)
    assert clock.sleeps == [0.5, 0.5]


def test_gives_up_at_the_timeout_with_the_last_failure():
    clock = FakeClock()
    result = poll(_attempts([f"fail {n}" for n in range(100)]), interval=1, timeout=2.5, sleep=clock.sleep,
                  clock=clock.time)
    assert (result.value, result.failure, result.attempts) == (None, "fail 3", 4)
    assert clock.sleeps == [1, 1, 0.5]  # never sleeps past the deadline


def test_a_first_success_does_not_sleep_and_a_zero_timeout_tries_once():
    clock = FakeClock()
    assert poll(_attempts(["ok"]), 1, 5, clock.sleep, clock.time).attempts == 1
    result = poll(_attempts(["no"]), 1, 0, clock.sleep, clock.time)
    assert (result.attempts, result.failure) == (1, "no")
    assert clock.sleeps == []
