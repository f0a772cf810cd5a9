"""Service-order and provisioning activities on a real database, called directly (and in an activity env)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from sqlalchemy import func, select, text
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.provisioning import (
    SetFault, SetLatency, mark_task_failed, resolve_stuck_task, run_provisioning_task, set_fault, set_latency,
)
from activities.service_order import (
    cancel_service_order, complete_service_order, create_line_tasks, create_service_order,
)
from core import db as core_db
from core.errors import ExternalServiceError, InvalidTransition, NotFound, PolicyViolation
from domain.audit import domain_event
from domain.provisioning import FaultMode, TaskType, task
from domain.provisioning_flow import (
    CancelServiceOrder, CompleteServiceOrder, CreateLineTasks, CreateServiceOrder, MarkTaskFailed,
    ResolveTask, RunTask,
)
from domain.service_order import service, service_order
from simulators import network

ORDER = CreateServiceOrder(order_id="ORD-000777", customer_id="CUST-000001", offering_id="PLAN_M",
                           msisdn="90000123", iccid="8910101000000000123")


@pytest.fixture(autouse=True)
def fast_network(monkeypatch):
    monkeypatch.setattr(network, "latency_scale", 0.05)  # HLR 200 ms → 10 ms


async def _task_row(db, task_id: str) -> dict:
    async with db.connect() as conn:
        return dict((await conn.execute(select(task).where(task.c.id == task_id))).mappings().one())


async def _count(db, table) -> int:
    async with db.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def _task_of(type_: TaskType) -> str:
    plan = await create_service_order(ORDER)
    return next(t.task_id for t in plan.tasks if t.task_type is type_)


async def _fault(type_: TaskType, mode: FaultMode, enabled: bool = True, **kw) -> None:
    await set_fault(SetFault(task_type=type_, mode=mode, enabled=enabled, **kw))


async def test_plan_creation_is_idempotent_on_the_order(seeded_db):
    plan = await create_service_order(ORDER)
    assert [t.task_type for t in plan.tasks] == [TaskType.HLR_PROVISION, TaskType.PCRF_POLICY_PUSH,
                                                 TaskType.OCS_BALANCE_INIT, TaskType.ESIM_PROFILE_PREPARE]
    events = await _count(seeded_db, domain_event)
    assert await create_service_order(ORDER) == plan
    assert await _count(seeded_db, domain_event) == events
    assert (await _count(seeded_db, service_order), await _count(seeded_db, service),
            await _count(seeded_db, task)) == (1, 3, 4)
    async with seeded_db.connect() as conn:
        rows = (await conn.execute(select(service).order_by(service.c.id))).mappings().all()
        so = (await conn.execute(select(service_order))).mappings().one()
    assert so["state"] == "in_progress" and so["product_order_id"] == ORDER.order_id
    assert [(r["kind"], r["spec_name"], r["state"]) for r in rows] == [
        ("CFS", "MobileBroadband", "reserved"), ("RFS", "DataService", "reserved"),
        ("RFS", "VoiceService", "reserved")]
    assert rows[1]["parent_service_id"] == rows[0]["id"] == rows[2]["parent_service_id"]
    data = rows[1]["characteristics"]
    assert (data["msisdn"], data["iccid"], data["apn"]) == ("90000123", ORDER.iccid, "internet")
    first = await _task_row(seeded_db, plan.tasks[0].task_id)
    assert (first["state"], first["max_attempts"], first["attempts"]) == ("pending", 3, 0)


async def test_a_task_runs_to_completed_with_the_seeded_latency(seeded_db):
    task_id = await _task_of(TaskType.OCS_BALANCE_INIT)  # OCS: 400 ms seeded → 20 ms scaled
    outcome = await run_provisioning_task(RunTask(task_id=task_id))
    assert (outcome.status, outcome.attempts) == ("completed", 1)
    assert outcome.task_type is TaskType.OCS_BALANCE_INIT
    assert outcome.duration_ms is not None and outcome.duration_ms >= 20
    row = await _task_row(seeded_db, task_id)
    assert (row["state"], row["attempts"], row["duration_ms"]) == ("completed", 1, outcome.duration_ms)
    assert row["started_at"] is not None and row["finished_at"] is not None
    assert await run_provisioning_task(RunTask(task_id=task_id)) == outcome  # a replay does not run it again
    assert (await _task_row(seeded_db, task_id))["attempts"] == 1


async def test_fail_first_attempt_fails_attempt_one_and_succeeds_on_two(seeded_db):
    task_id = await _task_of(TaskType.HLR_PROVISION)
    await _fault(TaskType.HLR_PROVISION, FaultMode.FAIL_FIRST_ATTEMPT)
    with pytest.raises(ExternalServiceError) as err:
        await run_provisioning_task(RunTask(task_id=task_id))
    assert err.value.retryable and "fail_first_attempt" in err.value.message
    row = await _task_row(seeded_db, task_id)
    assert (row["state"], row["attempts"]) == ("running", 1) and "HLR" in row["last_error"]
    outcome = await run_provisioning_task(RunTask(task_id=task_id))
    assert (outcome.status, outcome.attempts) == ("completed", 2)


async def test_fail_always_fails_every_attempt_then_the_workflow_marks_it_failed(seeded_db):
    task_id = await _task_of(TaskType.PCRF_POLICY_PUSH)
    await _fault(TaskType.PCRF_POLICY_PUSH, FaultMode.FAIL_ALWAYS)
    errors = []
    for _ in range(3):
        with pytest.raises(ExternalServiceError) as err:
            await run_provisioning_task(RunTask(task_id=task_id))
        errors.append((err.value.code, err.value.retryable))
    # The last attempt of the budget is final: Temporal must not try the element again.
    assert errors == [("provisioning.network_error", True)] * 2 + [("provisioning.task.attempts_exhausted", False)]
    await mark_task_failed(MarkTaskFailed(task_id=task_id, error="gave up after 3 attempts"))
    await mark_task_failed(MarkTaskFailed(task_id=task_id, error="gave up after 3 attempts"))  # idempotent
    row = await _task_row(seeded_db, task_id)
    assert (row["state"], row["attempts"], row["last_error"]) == ("failed", 3, "gave up after 3 attempts")
    with pytest.raises(PolicyViolation) as err:  # the budget is spent: no operator retry
        await run_provisioning_task(RunTask(task_id=task_id))
    assert err.value.code == "provisioning.retry.requires_failed_within_budget"


async def test_stuck_returns_stuck_and_an_operator_resolves_it_with_a_note(seeded_db):
    task_id = await _task_of(TaskType.ESIM_PROFILE_PREPARE)
    await _fault(TaskType.ESIM_PROFILE_PREPARE, FaultMode.STUCK)
    outcome = await run_provisioning_task(RunTask(task_id=task_id))
    assert (outcome.status, outcome.attempts) == ("stuck", 1)
    assert (await _task_row(seeded_db, task_id))["state"] == "stuck"
    with pytest.raises(PolicyViolation) as err:
        await resolve_stuck_task(ResolveTask(task_id=task_id, note="  "))
    assert err.value.code == "provisioning.resolve.requires_stuck_with_note"
    decision = ResolveTask(task_id=task_id, note="profile pushed by hand", actor="ops-1")
    done = await resolve_stuck_task(decision)
    assert done.status == "completed"
    assert await resolve_stuck_task(ResolveTask(task_id=task_id, note="profile pushed by hand")) == done
    row = await _task_row(seeded_db, task_id)
    assert (row["state"], row["operator_note"]) == ("completed", "profile pushed by hand")
    with pytest.raises(PolicyViolation) as err:  # no longer stuck
        await resolve_stuck_task(ResolveTask(task_id=task_id, note="again"))
    assert err.value.code == "provisioning.resolve.requires_stuck_with_note"


async def test_a_stuck_task_can_be_retried_within_its_budget(seeded_db):
    task_id = await _task_of(TaskType.HLR_PROVISION)
    await _fault(TaskType.HLR_PROVISION, FaultMode.STUCK)
    assert (await run_provisioning_task(RunTask(task_id=task_id))).status == "stuck"
    await _fault(TaskType.HLR_PROVISION, FaultMode.STUCK, enabled=False)
    outcome = await run_provisioning_task(RunTask(task_id=task_id))  # what the workflow's retry_task runs
    assert (outcome.status, outcome.attempts) == ("completed", 2)


async def test_an_attempt_temporal_gave_up_on_that_still_completes_leaves_the_task_completed(seeded_db):
    """Heartbeat timeout under load: Temporal retries while the first attempt is still on the element."""
    task_id = await _task_of(TaskType.HLR_PROVISION)
    await _fault(TaskType.HLR_PROVISION, FaultMode.SLOW, slow_ms=4000)  # 4.2 s → 210 ms scaled
    late_attempt = asyncio.create_task(run_provisioning_task(RunTask(task_id=task_id)))
    for _ in range(200):  # until the first attempt is on the element
        if (await _task_row(seeded_db, task_id))["state"] == "running":
            break
        await asyncio.sleep(0.01)
    await _fault(TaskType.HLR_PROVISION, FaultMode.SLOW, enabled=False, slow_ms=4000)
    retry = await run_provisioning_task(RunTask(task_id=task_id))
    assert not late_attempt.done(), "the retry must finish while the first attempt is still out"
    assert (retry.status, retry.attempts) == ("completed", 2)
    assert await late_attempt == retry  # the late answer reports the task as it stands, no 409
    # Retries exhausted in the workflow's view: giving up on a completed task hands back its outcome.
    assert await mark_task_failed(MarkTaskFailed(task_id=task_id, error="heartbeat timeout")) == retry
    row = await _task_row(seeded_db, task_id)
    assert (row["state"], row["last_error"]) == ("completed", None)
    async with seeded_db.connect() as conn:
        kinds = (await conn.execute(select(domain_event.c.event_type).where(
            domain_event.c.aggregate_id == task_id))).scalars().all()
    assert kinds.count("provisioning.task.completed") == 1 and "provisioning.task.failed" not in kinds


async def test_inside_an_activity_attempts_count_runs_not_temporal_retries_and_slow_heartbeats(seeded_db,
                                                                                              monkeypatch):
    monkeypatch.setattr(network, "HEARTBEAT_EVERY_S", 0.01)
    task_id = await _task_of(TaskType.HLR_PROVISION)
    await _fault(TaskType.HLR_PROVISION, FaultMode.SLOW, slow_ms=400)  # 600 ms → 30 ms scaled
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=2)  # the first attempt never reached the database
    beats: list = []
    env.on_heartbeat = lambda *details: beats.append(details)
    outcome = await env.run(run_provisioning_task, RunTask(task_id=task_id))
    assert (outcome.status, outcome.attempts) == ("completed", 1) and outcome.duration_ms >= 30
    assert len(beats) >= 2
    with pytest.raises(ApplicationError) as err:  # business refusals are final inside Temporal
        await env.run(resolve_stuck_task, ResolveTask(task_id=task_id, note="x"))
    assert err.value.non_retryable and err.value.type == "provisioning.resolve.requires_stuck_with_note"


async def test_complete_needs_every_task_completed_then_activates_the_services(seeded_db):
    plan = await create_service_order(ORDER)
    done = CompleteServiceOrder(order_id=ORDER.order_id, subscription_id="SUB-000042")
    with pytest.raises(PolicyViolation) as err:
        await complete_service_order(done)
    assert err.value.code == "service_order.complete.requires_tasks_completed"
    for planned in plan.tasks:
        await run_provisioning_task(RunTask(task_id=planned.task_id))
    await complete_service_order(done)
    await complete_service_order(done)  # idempotent
    async with seeded_db.connect() as conn:
        so = (await conn.execute(select(service_order))).mappings().one()
        states = (await conn.execute(select(service.c.state, service.c.subscription_id))).all()
    assert so["state"] == "completed" and so["completed_at"] is not None
    assert set(states) == {("activated", "SUB-000042")}
    with pytest.raises(InvalidTransition):  # a completed line is terminated, never compensated
        await cancel_service_order(CancelServiceOrder(order_id=ORDER.order_id))


async def test_cancel_fails_the_services_and_is_idempotent(seeded_db):
    await create_service_order(ORDER)
    await cancel_service_order(CancelServiceOrder(order_id="ORD-404404"))  # nothing to undo
    undo = CancelServiceOrder(order_id=ORDER.order_id, reason="HLR_PROVISION failed", failed=True)
    await cancel_service_order(undo)
    events = await _count(seeded_db, domain_event)
    await cancel_service_order(undo)
    assert await _count(seeded_db, domain_event) == events
    async with seeded_db.connect() as conn:
        so = (await conn.execute(select(service_order))).mappings().one()
        states = set((await conn.execute(select(service.c.state))).scalars())
        tasks = set((await conn.execute(select(task.c.state))).scalars())
    assert (so["state"], so["failure_reason"]) == ("failed", "HLR_PROVISION failed") and states == {"failed"}
    assert tasks == {"pending"}


async def test_line_tasks_are_created_once_per_occasion(seeded_db):
    with pytest.raises(NotFound):
        await create_line_tasks(CreateLineTasks(subscription_id="SUB-404404", key_suffix="block:1",
                                                task_types=[TaskType.PCRF_BLOCK]))
    async with seeded_db.begin() as conn:
        await conn.execute(text(
            "INSERT INTO subscription.subscription (id, customer_id, offering_id, msisdn, price_minor)"
            " VALUES ('SUB-000042', 'CUST-000001', 'PLAN_M', '90000123', 2500)"))
    req = CreateLineTasks(subscription_id="SUB-000042", key_suffix="terminate",
                          task_types=[TaskType.HLR_DEPROVISION, TaskType.PCRF_POLICY_REMOVE,
                                      TaskType.ESIM_PROFILE_DISABLE])
    plan = await create_line_tasks(req)
    assert [t.task_type for t in plan.tasks] == req.task_types
    assert await create_line_tasks(req) == plan
    outcome = await run_provisioning_task(RunTask(task_id=plan.tasks[0].task_id))
    assert outcome.status == "completed"


async def test_fault_and_latency_knobs_are_audited_writes(seeded_db):
    with pytest.raises(PolicyViolation) as err:
        await set_fault(SetFault(task_type=TaskType.HLR_PROVISION, mode=FaultMode.STUCK, enabled=True,
                                 slow_ms=100))
    assert err.value.code == "provisioning.fault.slow_needs_delay"
    rule = await set_fault(SetFault(task_type=TaskType.HLR_PROVISION, mode=FaultMode.SLOW, enabled=True,
                                    probability_pct=50))
    assert (rule["enabled"], rule["probability_pct"], rule["slow_ms"]) == (True, 50, 5000)
    rows = await set_latency(SetLatency(task_types=[TaskType.HLR_PROVISION, TaskType.HLR_DEPROVISION],
                                        latency_ms=0))
    assert [r["latency_ms"] for r in rows] == [0, 0]
    async with seeded_db.connect() as conn:
        settings = await network.load_settings(conn, TaskType.HLR_PROVISION)
    assert settings.latency_ms == 0 and [r.mode for r in settings.rules] == [FaultMode.SLOW]


async def test_two_attempts_racing_on_one_task_start_it_once_and_count_both(seeded_db):
    # The start is one UPDATE whose CTE locks the row: the second attempt waits, then sees it running.
    task_id = await _task_of(TaskType.HLR_PROVISION)
    # The element answers in 300 ms, so the second attempt surely starts while the first is on the element
    # (with no latency, a loaded machine could finish the first before the second begins).
    await set_latency(SetLatency(task_types=[TaskType.HLR_PROVISION], latency_ms=300))
    first, second = await asyncio.gather(run_provisioning_task(RunTask(task_id=task_id)),
                                         run_provisioning_task(RunTask(task_id=task_id)))
    assert (first.status, second.status) == ("completed", "completed")
    async with seeded_db.connect() as conn:
        started = (await conn.execute(select(domain_event.c.payload).where(
            domain_event.c.event_type == "provisioning.task.started", domain_event.c.aggregate_id == task_id)
        )).scalars().all()
        completed = (await conn.execute(select(func.count()).select_from(domain_event).where(
            domain_event.c.event_type == "provisioning.task.completed",
            domain_event.c.aggregate_id == task_id))).scalar_one()
    assert sorted((p["event"], p["attempt"]) for p in started) == [("attempt", 2), ("start", 1)]
    assert completed == 1
    row = await _task_row(seeded_db, task_id)
    assert (row["state"], row["attempts"]) == ("completed", 2)


async def test_attempts_lost_to_a_database_outage_do_not_spend_the_elements_budget(seeded_db):
    """An element failing every time still gets exactly max_attempts real calls, whatever Temporal retried."""
    task_id = await _task_of(TaskType.PCRF_POLICY_PUSH)
    await _fault(TaskType.PCRF_POLICY_PUSH, FaultMode.FAIL_ALWAYS)
    env = ActivityEnvironment()
    down = core_db.make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/bss")  # nothing listens on port 1
    outcomes: list = []
    for attempt in range(1, 10):
        env.info = dataclasses.replace(env.info, attempt=attempt)
        if attempt % 2:  # every other attempt, the database is down
            core_db.use_engine(down)
        try:
            await env.run(run_provisioning_task, RunTask(task_id=task_id))
        except OSError:
            outcomes.append("outage")  # not an ApplicationError: Temporal retries it, the window decides
        except ApplicationError as err:
            outcomes.append((err.type, err.non_retryable))
        finally:
            core_db.use_engine(seeded_db)
        if outcomes[-1] != "outage" and outcomes[-1][1]:
            break
    network_error = ("provisioning.network_error", False)
    assert outcomes == ["outage", network_error, "outage", network_error, "outage",
                        ("provisioning.task.attempts_exhausted", True)]
    row = await _task_row(seeded_db, task_id)
    assert (row["state"], row["attempts"], row["max_attempts"]) == ("running", 3, 3)
    assert "(attempt 3 of 3)" not in row["last_error"]  # the element's own words are kept on the row
