"""The network simulator: HLR/HSS, PCRF, OCS and SM-DP+ answering provisioning tasks.

Each call reads the element's latency and the enabled fault rules of the task type in one query
(so an operator's `bss prov fault set` acts on the very next call, in any process), sleeps the
latency, then applies the first enabled rule that matches, in `FaultMode` order, after a roll
of its probability against `rng` (seed it in tests; 100 % and 0 % never depend on the roll).

`latency_scale` shrinks or stretches every sleep of this process (tests and benchmarks set it);
the latency table stays the operator's truth.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import JSON, ColumnElement, ScalarSelect, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db import get_engine
from core.telemetry import external_call, mark_error
from domain.provisioning import (
    TASK_ELEMENT,
    FaultMode,
    NetworkElement,
    TaskType,
    fault_rule,
    simulator_latency,
)
from domain.reference_data import SIMULATOR_LATENCY_MS

latency_scale: float = 1.0
rng = random.Random()
HEARTBEAT_EVERY_S = 1.0  # long sleeps are cut into slices so a heartbeat goes out between them

Sleep = Callable[[float], Awaitable[None]]

# One round trip: the latency row (if any) and every enabled rule of the task type.
SETTINGS_QUERY = text("""
    SELECT l.latency_ms, r.mode, r.probability_pct, r.slow_ms
      FROM (SELECT CAST(:task_type AS text) AS task_type) k
      LEFT JOIN provisioning.simulator_latency l ON l.task_type = k.task_type
      LEFT JOIN provisioning.fault_rule r ON r.task_type = k.task_type AND r.enabled
""")


class Answer(StrEnum):
    """What the element answered."""

    OK = "ok"
    FAILED = "failed"
    STUCK = "stuck"


@dataclass(frozen=True)
class FaultRule:
    """An enabled fault rule as the simulator applies it."""

    mode: FaultMode
    probability_pct: int = 100
    slow_ms: int | None = None


@dataclass(frozen=True)
class ElementSettings:
    """How the element behind a task type behaves right now."""

    task_type: TaskType
    latency_ms: int
    rules: tuple[FaultRule, ...] = ()


@dataclass(frozen=True)
class NetworkResult:
    """The element's answer to one task attempt."""

    task_type: TaskType
    element: NetworkElement
    answer: Answer
    waited_ms: int                  # simulated time spent, after `latency_scale`
    fault: FaultMode | None = None  # the rule that fired, if any
    message: str = ""


def seed(value: int) -> None:
    """Make the probability rolls repeatable."""
    rng.seed(value)


async def load_settings(conn: AsyncConnection, task_type: TaskType) -> ElementSettings:
    """Read the latency and the enabled fault rules of `task_type` (one query)."""
    rows = (await conn.execute(SETTINGS_QUERY, {"task_type": task_type.value})).all()
    stored = rows[0].latency_ms if rows else None
    return settings_of(task_type, stored, [(r.mode, r.probability_pct, r.slow_ms) for r in rows if r.mode is not None])


def settings_of(task_type: TaskType, stored_latency_ms: int | None,
                rules: Iterable[tuple[str, int, int | None]]) -> ElementSettings:
    """The element's settings from its stored latency (None: the default) and its enabled rules."""
    latency = stored_latency_ms if stored_latency_ms is not None else SIMULATOR_LATENCY_MS[task_type]
    return ElementSettings(task_type, latency, tuple(FaultRule(FaultMode(m), pct, slow) for m, pct, slow in rules))


def settings_columns(task_type: ColumnElement[str]) -> tuple[ScalarSelect, ScalarSelect]:
    """Scalar subqueries for a statement on a task row: its element's stored latency and its enabled rules.

    Lets a task's own statement read the element's settings with it (no round trip of their own);
    the rules come as a JSON array of [mode, probability_pct, slow_ms] for `settings_of`.
    """
    latency = select(simulator_latency.c.latency_ms).where(simulator_latency.c.task_type == task_type)
    rules = select(func.json_agg(func.json_build_array(fault_rule.c.mode, fault_rule.c.probability_pct,
                                                       fault_rule.c.slow_ms), type_=JSON)).where(
        fault_rule.c.task_type == task_type, fault_rule.c.enabled)
    return latency.scalar_subquery(), rules.scalar_subquery()


def pick_fault(rules: tuple[FaultRule, ...], attempt: int) -> FaultRule | None:
    """Return the first rule (in `FaultMode` order) that applies to `attempt` and wins its roll."""
    order = list(FaultMode)
    for rule in sorted(rules, key=lambda r: order.index(r.mode)):
        if rule.mode is FaultMode.FAIL_FIRST_ATTEMPT and attempt != 1:
            continue
        if rule.probability_pct >= 100 or rng.randrange(100) < rule.probability_pct:
            return rule
    return None


async def execute(task_type: TaskType, attempt: int, *, conn: AsyncConnection | None = None,
                  settings: ElementSettings | None = None, heartbeat: Callable[[], None] | None = None,
                  sleep: Sleep = asyncio.sleep) -> NetworkResult:
    """Send one attempt of `task_type` to its element and return the element's answer."""
    if settings is None:
        if conn is not None:
            settings = await load_settings(conn, task_type)
        else:
            async with get_engine().connect() as own:
                settings = await load_settings(own, task_type)
    element = TASK_ELEMENT[task_type]
    with external_call(element.value, task_type.value, **{"network.attempt": attempt}) as span:
        result = await _answer(task_type, element, attempt, settings, heartbeat, sleep)
        span.set_attribute("network.answer", result.answer.value)
        if result.answer is not Answer.OK:
            mark_error(span, result.message)
        return result


async def _answer(task_type: TaskType, element: NetworkElement, attempt: int, settings: ElementSettings,
                  heartbeat: Callable[[], None] | None, sleep: Sleep) -> NetworkResult:
    fault = pick_fault(settings.rules, attempt)
    extra_ms = (fault.slow_ms or 0) if fault is not None and fault.mode is FaultMode.SLOW else 0
    delay_ms = settings.latency_ms + extra_ms
    waited_ms = round(delay_ms * latency_scale)
    await _wait(waited_ms / 1000, heartbeat, sleep)
    if fault is None or fault.mode is FaultMode.SLOW:
        return NetworkResult(task_type, element, Answer.OK, waited_ms, fault.mode if fault else None)
    if fault.mode is FaultMode.STUCK:
        return NetworkResult(task_type, element, Answer.STUCK, waited_ms, fault.mode,
                             f"{element} did not answer {task_type} (injected fault stuck)")
    return NetworkResult(task_type, element, Answer.FAILED, waited_ms, fault.mode,
                         f"{element} rejected {task_type} on attempt {attempt} (injected fault {fault.mode})")


async def _wait(seconds: float, heartbeat: Callable[[], None] | None, sleep: Sleep) -> None:
    while seconds > 0:
        step = min(seconds, HEARTBEAT_EVERY_S) if heartbeat else seconds
        await sleep(step)
        seconds -= step
        if heartbeat:
            heartbeat()
