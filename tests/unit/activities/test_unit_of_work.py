"""The unit of work commits a write together with its audit events, or neither."""

import pytest
from sqlalchemy import func, select, text

from activities.uow import MissingAuditEvent, unit_of_work
from core import context
from core.context import RequestContext
from domain.audit import domain_event
from domain.ids import IdKind, parse_id


async def _count(db) -> int:
    async with db.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(domain_event))).scalar_one()


async def test_events_are_committed_with_the_write(db):
    with context.acting_as(RequestContext("ops-lee", "cli", "cli")):
        async with unit_of_work() as uow:
            await uow.conn.execute(text("CREATE TABLE crm.probe (id int)"))
            uow.record("probe.created", "probe", "P-1", {"n": 1})
    async with db.connect() as conn:
        row = (await conn.execute(select(domain_event))).mappings().one()
        assert (await conn.execute(text("SELECT to_regclass('crm.probe')"))).scalar_one() is not None
    assert (row["event_type"], row["aggregate_id"], row["actor"], row["channel"]) == (
        "probe.created", "P-1", "ops-lee", "cli")
    assert row["payload"] == {"n": 1}
    assert uow.event_ids == [row["id"]]


async def test_failure_rolls_back_write_and_events(db):
    with pytest.raises(RuntimeError, match="boom"):
        async with unit_of_work() as uow:
            await uow.conn.execute(text("CREATE TABLE crm.probe (id int)"))
            uow.record("probe.created", "probe", "P-1")
            raise RuntimeError("boom")
    assert await _count(db) == 0
    async with db.connect() as conn:
        assert (await conn.execute(text("SELECT to_regclass('crm.probe')"))).scalar_one() is None


async def test_a_write_without_an_audit_event_is_refused(db):
    with pytest.raises(MissingAuditEvent):
        async with unit_of_work() as uow:
            await uow.conn.execute(text("CREATE TABLE crm.probe (id int)"))
    async with db.connect() as conn:
        assert (await conn.execute(text("SELECT to_regclass('crm.probe')"))).scalar_one() is None


async def test_ids_come_from_per_kind_sequences(db):
    async with unit_of_work() as uow:
        first = await uow.next_id(IdKind.CUSTOMER)
        second = await uow.next_id(IdKind.CUSTOMER)
        order = await uow.next_id(IdKind.ORDER)
        uow.record("probe.ids", "probe", first)
    assert first.startswith("CUST-") and order.startswith("ORD-")
    assert parse_id(IdKind.CUSTOMER, second) == parse_id(IdKind.CUSTOMER, first) + 1


async def test_id_batches_of_several_kinds_come_in_one_draw_each_ascending(db):
    async with unit_of_work() as uow:
        before = await uow.next_id(IdKind.SERVICE)
        drawn = await uow.next_id_batches({IdKind.SERVICE_ORDER: 1, IdKind.SERVICE: 3, IdKind.PROVISIONING_TASK: 4})
        after = await uow.next_id(IdKind.SERVICE)
        uow.record("probe.ids", "probe", before)
    services = [parse_id(IdKind.SERVICE, i) for i in drawn[IdKind.SERVICE]]
    start = parse_id(IdKind.SERVICE, before)
    assert services == [start + 1, start + 2, start + 3] and parse_id(IdKind.SERVICE, after) == start + 4
    assert len(drawn[IdKind.SERVICE_ORDER]) == 1 and len(set(drawn[IdKind.PROVISIONING_TASK])) == 4
    tasks = [parse_id(IdKind.PROVISIONING_TASK, i) for i in drawn[IdKind.PROVISIONING_TASK]]
    assert tasks == sorted(tasks)
