"""Provisioning task writes: run a task on the network, fail it, resolve it, and the simulator knobs.

A run is two short transactions around the network call, so no row lock is held while an element
thinks: mark `running` (attempts counted), call the simulator, record the answer. The task row is
the element's attempts budget: only attempts that reached the point of calling the element count,
so an attempt Temporal retries because the database was down costs nothing. A failed attempt
leaves the task `running` with `last_error` and raises a retryable `ExternalServiceError`, unless
it used the task's last attempt: then it raises a non-retryable one
(`provisioning.task.attempts_exhausted`) and the workflow marks the task failed
(`mark_task_failed`). Anything else (an outage) stays retryable, for as long as the workflow's
window allows. A stuck element is a result, not an error: the task is `stuck` and the workflow
waits for an operator.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.uow import UnitOfWork, unit_of_work
from core import clock, context
from core.context import RequestContext
from core.errors import BssError, Conflict, ExternalServiceError, NotFound
from domain.provisioning import (
    RETRY_EDGE,
    TASK_MACHINE,
    FaultMode,
    TaskState,
    TaskType,
    fault_rule,
    fault_rule_id,
    simulator_latency,
    task,
)
from domain.provisioning_flow import MarkTaskFailed, ResolveTask, RunTask, TaskOutcome
from policies import provisioning as rules
from policies.base import raise_if
from simulators import network

Row = dict[str, Any]
ATTEMPTS_EXHAUSTED = "provisioning.task.attempts_exhausted"
MAX_DURATION_MS = 2**31 - 1  # the column is an INTEGER; a task resolved weeks later still fits


class _Unchanged(Exception):
    """Roll back: nothing to write (idempotent replay); carries the row as it stands."""

    def __init__(self, row: Row) -> None:
        super().__init__(row.get("id"))
        self.row = row


@contextmanager
def activity_edge(actor: str | None = None) -> Iterator[None]:
    """Inside an activity, act as the system (or the operator named); refusals are final, outages retry."""
    if not activity.in_activity():
        yield
        return
    ctx = RequestContext(actor=actor or "system", channel=f"system:{activity.info().workflow_type}",
                         service_identity="system")
    try:
        with context.acting_as(ctx):
            yield
    except BssError as exc:
        # Typed with the rule code so the workflow can say why; only outside failures are retried.
        raise ApplicationError(exc.message, {"code": exc.code, "context": exc.context},
                               type=exc.code, non_retryable=not exc.retryable) from exc


async def load_task(conn: AsyncConnection, task_id: str, lock: bool = False) -> Row:
    """Return a task row as a dict, or raise NotFound."""
    query = select(task).where(task.c.id == task_id)
    row = (await conn.execute(query.with_for_update() if lock else query)).mappings().first()
    if row is None:
        raise NotFound("provisioning_task", task_id)
    return dict(row)


def outcome(row: Row) -> TaskOutcome:
    """The outcome of a completed or stuck task row."""
    status = "completed" if row["state"] == TaskState.COMPLETED else "stuck"
    return TaskOutcome(task_id=row["id"], task_type=TaskType(row["task_type"]), status=status,
                       attempts=row["attempts"], duration_ms=row["duration_ms"])


async def _save(uow: UnitOfWork, task_id: str, **values: Any) -> None:
    await uow.conn.execute(update(task).where(task.c.id == task_id).values(**values, updated_at=clock.now()))


def _heartbeat() -> None:
    if activity.in_activity():
        activity.heartbeat()


@activity.defn(name="run_provisioning_task")
async def run_provisioning_task(req: RunTask) -> TaskOutcome:
    """Run one attempt of a task on the network: completed, stuck (returned) or failed (raised; final on the last attempt)."""
    with activity_edge():
        try:
            row, settings = await _start(req.task_id)
        except _Unchanged as done:
            return outcome(done.row)
        began = time.monotonic()
        answer = await network.execute(TaskType(row["task_type"]), row["attempts"], settings=settings,
                                       heartbeat=_heartbeat)
        elapsed_ms = round((time.monotonic() - began) * 1000)
        try:
            return await _finish(row, answer, elapsed_ms)
        except _Unchanged as done:  # another attempt of this run completed it meanwhile
            return outcome(done.row)


async def _start(task_id: str) -> tuple[Row, network.ElementSettings]:
    """Mark the task running for this attempt and read its element's settings; a completed task raises."""
    # The row counts the attempts that got this far, not Temporal's: a retry after an outage (an
    # attempt that never reached the database) must not use up the element's budget.
    async with unit_of_work() as uow:
        started = await _start_fast(uow, task_id)
        if started is None:
            started = await _start_locked(uow, task_id)
        row, event, settings = started
        uow.record("provisioning.task.started", "provisioning_task", task_id,
                   {"task_type": row["task_type"], "attempt": row["attempts"], "event": event})
        return row, settings


async def _start_fast(uow: UnitOfWork, task_id: str) -> tuple[Row, str, network.ElementSettings] | None:
    """A pending or running task (every attempt but an operator's retry) in one statement, or None.

    The CTE locks the row and keeps its state before the write (start or attempt?); the element's
    settings are read in the same statement, as they stand now.
    """
    before = select(task.c.id, task.c.state).where(task.c.id == task_id).with_for_update().cte("before")
    running = TASK_MACHINE.next(TaskState.PENDING, "start")  # a running task stays running (Temporal retrying)
    now = clock.now()
    latency, rules = network.settings_columns(task.c.task_type)
    row = (await uow.conn.execute(
        update(task).where(task.c.id == before.c.id,
                           before.c.state.in_([TaskState.PENDING.value, TaskState.RUNNING.value]))
        .values(state=case((before.c.state == TaskState.PENDING.value, running.value), else_=before.c.state),
                attempts=task.c.attempts + 1,
                started_at=func.coalesce(task.c.started_at, now), updated_at=now)
        .returning(task, before.c.state.label("state_before"), latency.label("stored_latency_ms"),
                   rules.label("fault_rules")))).mappings().first()
    if row is None:
        return None
    found = dict(row)
    before_state = found.pop("state_before")
    settings = network.settings_of(TaskType(found["task_type"]), found.pop("stored_latency_ms"),
                                   found.pop("fault_rules") or [])
    return found, "start" if before_state == TaskState.PENDING else "attempt", settings


async def _start_locked(uow: UnitOfWork, task_id: str) -> tuple[Row, str, network.ElementSettings]:
    """Any other task: completed (raises `_Unchanged`), or failed/stuck and retried by an operator."""
    row = await load_task(uow.conn, task_id, lock=True)
    state = TaskState(row["state"])
    if state is TaskState.COMPLETED:
        raise _Unchanged(row)  # a retry after the completing transaction committed
    # Pending and running tasks took the fast path (its CTE holds their lock): this is an operator's
    # retry of a failed or stuck task.
    raise_if(rules.check_retry(task_id, state, row["attempts"], row["max_attempts"]))
    event, new_state = "retry", TASK_MACHINE.next(state, RETRY_EDGE[state])
    now = clock.now()
    values = {"state": new_state.value, "attempts": row["attempts"] + 1,
              "started_at": row["started_at"] or now}
    await _save(uow, task_id, **values)
    # The element's latency and fault rules as they stand now, on this connection (no second checkout).
    return row | values, event, await network.load_settings(uow.conn, TaskType(row["task_type"]))


async def _finish(started: Row, answer: network.NetworkResult, elapsed_ms: int) -> TaskOutcome:
    """Record the element's answer; a failed attempt raises after its error is committed."""
    task_id = started["id"]
    now = clock.now()
    if answer.answer is network.Answer.OK:
        event = "completed"
        values = {"state": TASK_MACHINE.next(TaskState.RUNNING, "complete").value, "finished_at": now,
                  "duration_ms": min(elapsed_ms, MAX_DURATION_MS)}
        extra: Row = {"duration_ms": values["duration_ms"]}
    elif answer.answer is network.Answer.STUCK:
        event = "stuck"
        values = {"state": TASK_MACHINE.next(TaskState.RUNNING, "stick").value, "last_error": answer.message}
        extra = {"error": answer.message}
    else:
        event = "attempt_failed"
        values = {"last_error": answer.message}  # stays running: the workflow decides when to give up
        extra = {"error": answer.message}
    async with unit_of_work() as uow:
        # Only a running task takes the answer: one conditional write instead of lock, check, write.
        row = (await uow.conn.execute(update(task).where(task.c.id == task_id, task.c.state == TaskState.RUNNING.value)
                                      .values(**values, updated_at=now).returning(task))).mappings().first()
        if row is None:
            current = await load_task(uow.conn, task_id)
            if current["state"] == TaskState.COMPLETED:
                # Another attempt of this run (e.g. one Temporal timed out that still got through) completed
                # it: the element did the work, so this attempt reports the task as it stands.
                raise _Unchanged(current)
            # Given up on meanwhile (marked failed) or handed to an operator (stuck): too late.
            raise Conflict("provisioning_task.changed",
                           f"task {task_id} is {current['state']}; its answer came too late",
                           {"task_id": task_id, "state": current["state"]})
        payload = {"task_type": row["task_type"], "attempt": row["attempts"], "element": answer.element.value,
                   "fault": answer.fault.value if answer.fault else None}
        uow.record(f"provisioning.task.{event}", "provisioning_task", task_id, payload | extra)
    if answer.answer is network.Answer.FAILED:
        raise _attempt_failed(dict(row), answer)
    return outcome(dict(row))


def _attempt_failed(row: Row, answer: network.NetworkResult) -> ExternalServiceError:
    """The error of a failed attempt: retryable while the task has attempts left, final once it has none."""
    context = {"task_id": row["id"], "attempt": row["attempts"], "max_attempts": row["max_attempts"],
               "element": answer.element.value}
    if row["attempts"] < row["max_attempts"]:
        return ExternalServiceError("provisioning.network_error", answer.message, context)
    error = ExternalServiceError(ATTEMPTS_EXHAUSTED, f"{answer.message} (attempt {row['attempts']} of "
                                                     f"{row['max_attempts']})", context)
    # The element refused every attempt the task allows: a business failure, so Temporal must not
    # retry it (its policy only bounds outages, by time).
    error.retryable = False
    return error


@activity.defn(name="mark_task_failed")
async def mark_task_failed(req: MarkTaskFailed) -> TaskOutcome | None:
    """Mark a task failed for good once its attempts are spent or the workflow's window closed (idempotent).

    Returns the task's outcome when a late attempt completed it after all (the workflow then goes on
    as if the attempt had answered), else None.
    """
    with activity_edge():
        try:
            async with unit_of_work() as uow:
                row = await load_task(uow.conn, req.task_id, lock=True)
                state = TaskState(row["state"])
                # COMPLETED: an attempt Temporal had timed out (heartbeat) finished on the element and
                # committed; failing a done task would deprovision work that succeeded.
                if state in (TaskState.COMPLETED, TaskState.FAILED):
                    raise _Unchanged(row)
                if state is TaskState.PENDING:  # every attempt died before it could mark the task running
                    state = TASK_MACHINE.next(state, "start")
                new_state = TASK_MACHINE.next(state, "fail")
                await _save(uow, req.task_id, state=new_state.value, last_error=req.error,
                            finished_at=clock.now())
                uow.record("provisioning.task.failed", "provisioning_task", req.task_id,
                           {"task_type": row["task_type"], "attempts": row["attempts"], "error": req.error})
        except _Unchanged as unchanged:
            return outcome(dict(unchanged.row)) if unchanged.row["state"] == TaskState.COMPLETED else None
        return None


@activity.defn(name="resolve_stuck_task")
async def resolve_stuck_task(req: ResolveTask) -> TaskOutcome:
    """Complete a stuck task by hand (stuck → running → completed) with the operator's note."""
    with activity_edge(req.actor):
        try:
            return await _resolve(req)
        except _Unchanged as done:
            return outcome(done.row)


async def _resolve(req: ResolveTask) -> TaskOutcome:
    async with unit_of_work() as uow:
        row = await load_task(uow.conn, req.task_id, lock=True)
        if row["state"] == TaskState.COMPLETED and row["operator_note"] == req.note:
            raise _Unchanged(row)  # the same decision delivered twice
        raise_if(rules.check_resolve(req.task_id, row["state"], req.note))
        running = TASK_MACHINE.next(TaskState(row["state"]), "resolve")
        now = clock.now()
        elapsed = _elapsed_ms(row["started_at"], now)
        values = {"state": TASK_MACHINE.next(running, "complete").value, "operator_note": req.note,
                  "finished_at": now, "duration_ms": elapsed}
        await _save(uow, req.task_id, **values)
        uow.record("provisioning.task.resolved", "provisioning_task", req.task_id,
                   {"task_type": row["task_type"], "note": req.note,
                    "operator": req.actor or context.current().actor})
    return outcome(row | values)


def _elapsed_ms(start: dt.datetime | None, end: dt.datetime) -> int | None:
    if start is None:
        return None
    return min(max(round((end - start).total_seconds() * 1000), 0), MAX_DURATION_MS)


class SetFault(BaseModel):
    """Switch a fault rule on or off, optionally changing its probability and delay."""

    task_type: TaskType
    mode: FaultMode
    enabled: bool
    probability_pct: int | None = Field(default=None, ge=0, le=100)
    slow_ms: int | None = Field(default=None, gt=0)


async def check_set_fault(conn: AsyncConnection, cmd: SetFault, lock: bool = False) -> Row:
    """Load the rule a change targets and run the fault policies on the merged values."""
    rule_id = fault_rule_id(cmd.task_type, cmd.mode)
    query = select(fault_rule).where(fault_rule.c.id == rule_id)
    row = (await conn.execute(query.with_for_update() if lock else query)).mappings().first()
    if row is None:
        raise NotFound("fault_rule", rule_id)
    slow_ms = cmd.slow_ms if cmd.slow_ms is not None else row["slow_ms"]
    raise_if(rules.check_fault_rule(cmd.mode, slow_ms if cmd.mode is FaultMode.SLOW else cmd.slow_ms))
    return dict(row)


async def set_fault(cmd: SetFault) -> Row:
    """Change one fault rule of the network simulator; return the rule as stored."""
    async with unit_of_work() as uow:
        row = await check_set_fault(uow.conn, cmd, lock=True)
        values = {"enabled": cmd.enabled, "updated_at": clock.now()}
        if cmd.probability_pct is not None:
            values["probability_pct"] = cmd.probability_pct
        if cmd.slow_ms is not None:
            values["slow_ms"] = cmd.slow_ms
        await uow.conn.execute(update(fault_rule).where(fault_rule.c.id == row["id"]).values(**values))
        uow.record("provisioning.fault_rule.changed", "fault_rule", row["id"],
                   {k: v for k, v in values.items() if k != "updated_at"})
    return row | values


class SetLatency(BaseModel):
    """Set the simulated latency of some task types (e.g. every task of one element)."""

    task_types: list[TaskType] = Field(min_length=1)
    latency_ms: int = Field(ge=0, le=600_000)


async def set_latency(cmd: SetLatency) -> list[Row]:
    """Change the simulated latency of the given task types; return their rows."""
    now = clock.now()
    rows = [{"task_type": t.value, "latency_ms": cmd.latency_ms, "updated_at": now} for t in cmd.task_types]
    async with unit_of_work() as uow:
        stmt = pg_insert(simulator_latency).values(rows)
        await uow.conn.execute(stmt.on_conflict_do_update(
            index_elements=[simulator_latency.c.task_type],
            set_={"latency_ms": stmt.excluded.latency_ms, "updated_at": stmt.excluded.updated_at}))
        for t in cmd.task_types:
            uow.record("provisioning.latency.changed", "simulator_latency", t.value,
                       {"latency_ms": cmd.latency_ms})
    return rows
