"""The network simulator: latency, fault rules in order, seeded probabilities, heartbeats while slow."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from domain.provisioning import FaultMode, NetworkElement, TaskType, fault_rule, simulator_latency
from simulators import network
from simulators.network import Answer, ElementSettings, FaultRule


class Clock:
    """A fake sleep that records how long the simulator waited."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)

    @property
    def total_ms(self) -> int:
        return round(sum(self.slept) * 1000)


def settings(*rules: FaultRule, latency_ms: int = 200) -> ElementSettings:
    return ElementSettings(TaskType.HLR_PROVISION, latency_ms, rules)


async def run(cfg: ElementSettings, attempt: int = 1, **kw) -> tuple[network.NetworkResult, Clock]:
    sleep = Clock()
    return await network.execute(cfg.task_type, attempt, settings=cfg, sleep=sleep, **kw), sleep


async def test_no_fault_answers_ok_after_the_latency():
    result, sleep = await run(settings(latency_ms=300))
    assert (result.answer, result.element, result.fault) == (Answer.OK, NetworkElement.HLR, None)
    assert result.waited_ms == 300
    assert sleep.total_ms == 300


async def test_latency_scale_shrinks_every_sleep(monkeypatch):
    monkeypatch.setattr(network, "latency_scale", 0.1)
    result, sleep = await run(settings(FaultRule(FaultMode.SLOW, slow_ms=1000), latency_ms=200))
    assert (result.answer, result.fault) == (Answer.OK, FaultMode.SLOW)
    assert (result.waited_ms, sleep.total_ms) == (120, 120)


async def test_fail_first_attempt_fails_only_attempt_one():
    rule = FaultRule(FaultMode.FAIL_FIRST_ATTEMPT)
    first, _ = await run(settings(rule), attempt=1)
    second, _ = await run(settings(rule), attempt=2)
    assert (first.answer, first.fault) == (Answer.FAILED, FaultMode.FAIL_FIRST_ATTEMPT)
    assert "attempt 1" in first.message and second.answer is Answer.OK


async def test_fail_always_fails_every_attempt_and_stuck_answers_stuck():
    for attempt in (1, 2, 3):
        assert (await run(settings(FaultRule(FaultMode.FAIL_ALWAYS)), attempt))[0].answer is Answer.FAILED
    stuck, _ = await run(settings(FaultRule(FaultMode.STUCK)))
    assert (stuck.answer, stuck.fault) == (Answer.STUCK, FaultMode.STUCK)
    assert "did not answer" in stuck.message


async def test_the_first_matching_rule_wins_in_fault_mode_order():
    slow = FaultRule(FaultMode.SLOW, slow_ms=50)
    rules = (slow, FaultRule(FaultMode.STUCK), FaultRule(FaultMode.FAIL_ALWAYS))
    assert (await run(settings(*rules)))[0].fault is FaultMode.FAIL_ALWAYS
    later = (slow, FaultRule(FaultMode.FAIL_FIRST_ATTEMPT), FaultRule(FaultMode.STUCK))
    assert (await run(settings(*later), attempt=1))[0].fault is FaultMode.FAIL_FIRST_ATTEMPT
    assert (await run(settings(*later), attempt=2))[0].fault is FaultMode.STUCK


def test_probabilities_are_exact_at_the_ends_and_repeatable_with_a_seed():
    always, never = FaultRule(FaultMode.STUCK, 100), FaultRule(FaultMode.STUCK, 0)
    assert all(network.pick_fault((always,), 1) is always for _ in range(200))
    assert all(network.pick_fault((never,), 1) is None for _ in range(200))
    half = (FaultRule(FaultMode.FAIL_ALWAYS, 50),)
    network.seed(7)
    first = [network.pick_fault(half, 1) is not None for _ in range(400)]
    network.seed(7)
    assert [network.pick_fault(half, 1) is not None for _ in range(400)] == first
    assert 150 < sum(first) < 250


async def test_a_slow_answer_heartbeats_between_slices(monkeypatch):
    monkeypatch.setattr(network, "HEARTBEAT_EVERY_S", 0.5)
    beats: list[int] = []
    slow = settings(FaultRule(FaultMode.SLOW, slow_ms=1800))
    result, sleep = await run(slow, heartbeat=lambda: beats.append(1))
    assert result.waited_ms == 2000 and sleep.slept == [0.5, 0.5, 0.5, 0.5] and len(beats) == 4


async def test_settings_come_from_the_tables_with_element_defaults(seeded_db):
    async with seeded_db.connect() as conn:
        seeded = await network.load_settings(conn, TaskType.ESIM_PROFILE_PREPARE)
    assert (seeded.latency_ms, seeded.rules) == (500, ())
    async with seeded_db.begin() as conn:
        await conn.execute(update(fault_rule).where(fault_rule.c.id == "PCRF_BLOCK.stuck").values(
            enabled=True, probability_pct=30))
        await conn.execute(simulator_latency.delete().where(simulator_latency.c.task_type == "PCRF_BLOCK"))
    async with seeded_db.connect() as conn:
        changed = await network.load_settings(conn, TaskType.PCRF_BLOCK)
    assert changed.latency_ms == 300  # the element's default when the row is missing
    assert changed.rules == (FaultRule(FaultMode.STUCK, 30, None),)


async def test_execute_reads_the_tables_itself_without_settings(seeded_db, monkeypatch):
    monkeypatch.setattr(network, "latency_scale", 0)
    result = await network.execute(TaskType.OCS_BALANCE_INIT, 1)
    assert (result.answer, result.element, result.waited_ms) == (Answer.OK, NetworkElement.OCS, 0)


@pytest.mark.parametrize("task_type", list(TaskType))
def test_every_task_type_has_an_element(task_type):
    assert network.TASK_ELEMENT[task_type] in NetworkElement
