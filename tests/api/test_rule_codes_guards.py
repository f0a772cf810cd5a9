"""Guards and races of the workflows' own activities (issue #17): codes no HTTP request can provoke, because the
workflow that calls the activity passes what it just computed. Each is shown on the real stack the way
it would happen: a line or order made over HTTP by the real flow, then the activity called as its
workflow calls it, with the stale or mismatched input the guard exists for. Nothing is written."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text

from activities.provisioning import SetFault, mark_task_failed, run_provisioning_task, set_fault
from activities.service_order import create_service_order
from activities.subscription_renewal import apply_renewal, renewal_terms
from core import clock
from core.errors import Conflict
from domain.provisioning import FaultMode, TaskType, task
from domain.provisioning_flow import CreateServiceOrder, MarkTaskFailed, RunTask
from domain.subscription_flow import ApplyRenewal
from simulators import network
from tests.api.test_product_inventory import active_line
from tests.support.factories import ready_customer


async def writes(db) -> int:
    async with db.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM audit.domain_event"))).scalar_one()


async def test_a_renewal_with_stale_terms_is_out_of_turn(seeded_api, seeded_db):
    _, sub_id = await active_line(seeded_api, "PLAN_S")
    now = clock.now()
    terms = await renewal_terms(sub_id, now)
    stale = terms.model_copy(update={"period_number": terms.period_number + 1})
    before = await writes(seeded_db)
    with pytest.raises(Conflict) as refused:
        await apply_renewal(ApplyRenewal(terms=stale, kind="renewal", payment_id="PAY-STALE",
                                         idempotency_key=f"{sub_id}:renew-stale", period_start=now, as_of=now))
    assert refused.value.code == "subscription.renewal.out_of_turn"
    assert await writes(seeded_db) == before


async def test_an_order_whose_service_order_belongs_to_another_customer_is_reused(seeded_api, seeded_db):
    _, sub_id = await active_line(seeded_api, "PLAN_S")
    async with seeded_db.connect() as conn:
        row = (await conn.execute(text(
            "SELECT o.id AS order_id, s.msisdn, s.iccid FROM subscription.subscription s"
            " JOIN ordering.product_order o ON o.subscription_id = s.id WHERE s.id = :s"), {"s": sub_id})).one()
    stranger = await ready_customer(seeded_api)
    before = await writes(seeded_db)
    with pytest.raises(Conflict) as refused:
        await create_service_order(CreateServiceOrder(order_id=row.order_id, customer_id=stranger,
                                                      offering_id="PLAN_S", msisdn=row.msisdn, iccid=row.iccid))
    assert refused.value.code == "service_order.order_reused"
    assert await writes(seeded_db) == before


async def test_an_answer_arriving_after_the_workflow_gave_the_task_up_is_too_late(seeded_db, monkeypatch):
    monkeypatch.setattr(network, "latency_scale", 0.05)
    plan = await create_service_order(CreateServiceOrder(order_id="ORD-000778", customer_id="CUST-000001",
                                                         offering_id="PLAN_M", msisdn="90000124",
                                                         iccid="8910101000000000124"))
    task_id = next(t.task_id for t in plan.tasks if t.task_type is TaskType.HLR_PROVISION)
    await set_fault(SetFault(task_type=TaskType.HLR_PROVISION, mode=FaultMode.SLOW, enabled=True, slow_ms=6000))
    late = asyncio.create_task(run_provisioning_task(RunTask(task_id=task_id)))
    for _ in range(300):  # until the attempt is on the element
        async with seeded_db.connect() as conn:
            state = (await conn.execute(select(task.c.state).where(task.c.id == task_id))).scalar_one()
        if state == "running":
            break
        await asyncio.sleep(0.01)
    assert state == "running" and not late.done()
    await mark_task_failed(MarkTaskFailed(task_id=task_id, error="the workflow's window closed"))
    with pytest.raises(Conflict) as refused:
        await late
    assert (refused.value.code, refused.value.context["state"]) == ("provisioning_task.changed", "failed")
    async with seeded_db.connect() as conn:
        assert (await conn.execute(select(task.c.state).where(task.c.id == task_id))).scalar_one() == "failed"
