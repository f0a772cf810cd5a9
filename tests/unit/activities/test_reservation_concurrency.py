"""Inventory activities on a real PostgreSQL: concurrent reservations never share a unit, every
refusal writes nothing, and each activity is idempotent on its order or subscription id."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import text
from temporalio import activity

from activities.inventory import (
    assign_resources,
    mark_esim_downloaded,
    recycle_quarantined,
    release_for_termination,
    release_reservations,
    reserve_esim,
    reserve_msisdn,
)
from activities.inventory_pool import add_msisdn_range, change_state
from core import clock
from core.errors import PolicyViolation
from domain.inventory import Pool

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


async def rows(db, sql: str, **params) -> list[tuple]:
    async with db.connect() as conn:
        return [tuple(r) for r in await conn.execute(text(sql), params)]


async def scalar(db, sql: str, **params):
    async with db.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


async def state_of_everything(db) -> tuple:
    """Every inventory row and audit event, to prove a refusal changed nothing."""
    return (await rows(db, "SELECT * FROM inventory.msisdn ORDER BY number"),
            await rows(db, "SELECT * FROM inventory.esim_profile ORDER BY iccid"),
            await rows(db, "SELECT * FROM inventory.msisdn_range ORDER BY id"),
            await rows(db, "SELECT * FROM inventory.pool_watermark ORDER BY pool"),
            await scalar(db, "SELECT count(*) FROM audit.domain_event"))


async def events(db, event_type: str) -> list[tuple]:
    return await rows(db, "SELECT aggregate_id, payload FROM audit.domain_event WHERE event_type = :t ORDER BY id",
                      t=event_type)


async def refused(db, call, code: str) -> PolicyViolation:
    before = await state_of_everything(db)
    with pytest.raises(PolicyViolation) as caught:
        await call
    assert caught.value.code == code, caught.value.violations
    assert await state_of_everything(db) == before
    return caught.value


def test_every_flow_facing_function_is_a_temporal_activity():
    for fn in (reserve_msisdn, reserve_esim, release_reservations, assign_resources, mark_esim_downloaded,
               release_for_termination, recycle_quarantined, add_msisdn_range):
        assert activity._Definition.from_callable(fn) is not None, fn.__name__


async def test_twenty_concurrent_msisdn_reservations_never_share_a_number(seeded_db):
    orders = [f"ORD-C{i:03d}" for i in range(20)]
    numbers = await asyncio.gather(*(reserve_msisdn(o) for o in orders))
    assert len(set(numbers)) == 20
    held = dict(await rows(seeded_db, "SELECT reserved_for, number FROM inventory.msisdn WHERE state = 'reserved'"))
    assert held == dict(zip(orders, numbers, strict=True))
    assert len(await events(seeded_db, "inventory.msisdn.reserved")) == 20


async def test_twenty_concurrent_esim_reservations_never_share_a_profile(seeded_db):
    orders = [f"ORD-E{i:03d}" for i in range(20)]
    profiles = await asyncio.gather(*(reserve_esim(o) for o in orders))
    assert len({p.iccid for p in profiles}) == 20 and len({p.imsi for p in profiles}) == 20
    held = dict(await rows(seeded_db, "SELECT reserved_for, iccid FROM inventory.esim_profile WHERE state = 'reserved'"))
    assert held == {o: p.iccid for o, p in zip(orders, profiles, strict=True)}
    first = profiles[0]
    assert first.activation_code == f"LPA:1${first.smdp_address}${first.matching_id}"


async def test_a_reservation_skips_rows_another_transaction_is_taking_instead_of_waiting(seeded_db):
    async with seeded_db.connect() as other:
        await other.execute(text("SELECT 1 FROM inventory.msisdn WHERE number IN ('90000000', '90000001') FOR UPDATE"))
        await other.execute(text("SELECT 1 FROM inventory.esim_profile WHERE iccid = (SELECT min(iccid)"
                                 " FROM inventory.esim_profile) FOR UPDATE"))
        # Without SKIP LOCKED these would queue behind `other` until lock_timeout (5 s) and fail.
        number, profile = await asyncio.wait_for(asyncio.gather(reserve_msisdn("ORD-1"), reserve_esim("ORD-1")), 2)
        await other.rollback()
    assert number == "90000002"
    assert profile.iccid != await scalar(seeded_db, "SELECT min(iccid) FROM inventory.esim_profile")


async def test_a_retry_racing_its_first_attempt_gets_the_same_number(seeded_db):
    numbers = await asyncio.gather(*(reserve_msisdn("ORD-RACE") for _ in range(6)))
    profiles = await asyncio.gather(*(reserve_esim("ORD-RACE") for _ in range(6)))
    assert len(set(numbers)) == 1 and len({p.iccid for p in profiles}) == 1
    assert await scalar(seeded_db, "SELECT count(*) FROM inventory.msisdn WHERE state = 'reserved'") == 1
    assert await scalar(seeded_db, "SELECT count(*) FROM inventory.esim_profile WHERE state = 'reserved'") == 1


async def test_reserving_again_returns_what_the_order_already_holds(seeded_db):
    number = await reserve_msisdn("ORD-1", "90000500")
    profile = await reserve_esim("ORD-1")
    before = await state_of_everything(seeded_db)
    assert await reserve_msisdn("ORD-1", "90000500") == number == "90000500"
    assert await reserve_msisdn("ORD-1") == number  # a retry without the preference still finds it
    assert await reserve_esim("ORD-1") == profile
    assert await state_of_everything(seeded_db) == before


async def test_a_taken_or_unknown_preferred_number_is_refused(seeded_db):
    await reserve_msisdn("ORD-1", "90000007")
    violation = await refused(seeded_db, reserve_msisdn("ORD-2", "90000007"), "order.create.msisdn_available")
    assert violation.context == {"msisdn": "90000007", "state": "reserved"}
    await refused(seeded_db, reserve_msisdn("ORD-2", "80000000"), "order.create.msisdn_available")


async def test_an_empty_pool_is_exhausted(seeded_db):
    async with seeded_db.begin() as conn:
        await conn.execute(text("DELETE FROM inventory.msisdn WHERE number <> '90000000'"))
        await conn.execute(text("DELETE FROM inventory.esim_profile WHERE iccid <> (SELECT min(iccid) FROM inventory.esim_profile)"))
    await reserve_msisdn("ORD-1")
    await reserve_esim("ORD-1")
    violation = await refused(seeded_db, reserve_msisdn("ORD-2"), "inventory.msisdn.pool_exhausted")
    assert violation.context == {"pool": "msisdn"}
    await refused(seeded_db, reserve_esim("ORD-2"), "inventory.esim.pool_exhausted")


async def test_release_returns_exactly_this_orders_rows(seeded_db):
    mine = await reserve_msisdn("ORD-A"), (await reserve_esim("ORD-A")).iccid
    theirs = await reserve_msisdn("ORD-B"), (await reserve_esim("ORD-B")).iccid
    result = await release_reservations("ORD-A")
    assert (result.msisdns, result.iccids, result.recycled_iccids) == ([mine[0]], [mine[1]], [])
    assert await rows(seeded_db, "SELECT state, reserved_for FROM inventory.msisdn WHERE number IN (:a, :b) ORDER BY number",
                      a=mine[0], b=theirs[0]) == [("available", None), ("reserved", "ORD-B")]
    assert await scalar(seeded_db, "SELECT state FROM inventory.esim_profile WHERE iccid = :i", i=theirs[1]) == "reserved"
    assert [e[0] for e in await events(seeded_db, "inventory.msisdn.released")] == [mine[0]]
    before = await state_of_everything(seeded_db)
    again = await release_reservations("ORD-A")
    assert again.released == 0 and await state_of_everything(seeded_db) == before
    assert (await release_reservations("ORD-NOTHING")).released == 0


async def test_a_downloaded_profile_is_retired_not_reissued_on_release(seeded_db):
    await reserve_msisdn("ORD-A")
    profile = await reserve_esim("ORD-A")
    assert await mark_esim_downloaded("ORD-A") == profile
    assert await mark_esim_downloaded("ORD-A") == profile  # idempotent
    result = await release_reservations("ORD-A")
    assert result.recycled_iccids == [profile.iccid] and result.iccids == []
    assert await scalar(seeded_db, "SELECT state FROM inventory.esim_profile WHERE iccid = :i", i=profile.iccid) == "recycled"


async def test_assign_hands_both_to_the_subscription_once(seeded_db):
    number = await reserve_msisdn("ORD-A")
    profile = await reserve_esim("ORD-A")
    await assign_resources("ORD-A", "SUB-1")
    assert await rows(seeded_db, "SELECT state, assigned_to FROM inventory.msisdn WHERE number = :n", n=number) == [
        ("assigned", "SUB-1")]
    assert await rows(seeded_db, "SELECT state, assigned_msisdn FROM inventory.esim_profile WHERE iccid = :i",
                      i=profile.iccid) == [("activated", number)]
    kinds = [r[0] for r in await rows(seeded_db, "SELECT event_type FROM audit.domain_event WHERE payload->>'subscription_id' = 'SUB-1' ORDER BY id")]
    assert kinds == ["inventory.msisdn.assigned", "inventory.esim.downloaded", "inventory.esim.activated"]
    before = await state_of_everything(seeded_db)
    await assign_resources("ORD-A", "SUB-1")
    assert await state_of_everything(seeded_db) == before
    await refused(seeded_db, assign_resources("ORD-A", "SUB-2"), "inventory.msisdn.assigned_to_another_subscription")
    # a released (or never reserved) order has nothing to assign
    await refused(seeded_db, assign_resources("ORD-NONE", "SUB-3"), "inventory.msisdn.not_reserved_for_order")


async def test_termination_quarantines_for_90_days_then_the_timer_recycles(seeded_db):
    number = await reserve_msisdn("ORD-A")
    profile = await reserve_esim("ORD-A")
    await assign_resources("ORD-A", "SUB-1")
    with clock.frozen(T0):
        await release_for_termination("SUB-1", T0)
        before = await state_of_everything(seeded_db)
        await release_for_termination("SUB-1", T0)  # a retry
        assert await state_of_everything(seeded_db) == before
    quarantined = await rows(seeded_db, "SELECT state, quarantine_until FROM inventory.msisdn WHERE number = :n", n=number)
    assert quarantined == [("quarantine", T0 + dt.timedelta(days=90))]
    assert await scalar(seeded_db, "SELECT state FROM inventory.esim_profile WHERE iccid = :i", i=profile.iccid) == "recycled"
    with clock.frozen(T0 + dt.timedelta(days=89)):
        assert await recycle_quarantined(T0 + dt.timedelta(days=89, hours=23)) == 0
    with clock.frozen(T0 + dt.timedelta(days=90)):
        assert await recycle_quarantined(T0 + dt.timedelta(days=90)) == 1
        assert await recycle_quarantined(T0 + dt.timedelta(days=90)) == 0
    assert await rows(seeded_db, "SELECT state, assigned_to, reserved_for, quarantine_until FROM inventory.msisdn"
                      " WHERE number = :n", n=number) == [("available", None, None, None)]
    recycled = await events(seeded_db, "inventory.msisdn.recycled")
    assert [r[0] for r in recycled] == [number]


async def test_a_ported_out_number_is_terminal_but_its_line_still_ends(seeded_db):
    number = await reserve_msisdn("ORD-A")
    profile = await reserve_esim("ORD-A")
    await assign_resources("ORD-A", "SUB-1")
    moved = await change_state(Pool.MSISDN, number, "ported_out", note="ported to another operator")
    assert moved["state"] == "ported_out"
    for target in ("available", "quarantine", "assigned"):
        await refused(seeded_db, change_state(Pool.MSISDN, number, target), "inventory.msisdn.ported_out_is_terminal")
    await release_for_termination("SUB-1", T0)
    assert await scalar(seeded_db, "SELECT state FROM inventory.msisdn WHERE number = :n", n=number) == "ported_out"
    assert await scalar(seeded_db, "SELECT state FROM inventory.esim_profile WHERE iccid = :i", i=profile.iccid) == "recycled"


async def test_operators_cannot_do_the_order_flows_moves(seeded_db):
    await refused(seeded_db, change_state(Pool.MSISDN, "90000001", "reserved"), "msisdn.transition.invalid")
    await refused(seeded_db, change_state(Pool.MSISDN, "90000001", "quarantine"), "msisdn.transition.invalid")
    await refused(seeded_db, change_state(Pool.ESIM, (await reserve_esim("ORD-A")).iccid, "activated"),
                  "esim_profile.transition.invalid")


async def test_add_range_is_idempotent_and_skips_numbers_already_in_the_pool(seeded_db):
    result = await add_msisdn_range("90000990", "90001009")
    assert (result.size, result.added, result.skipped, result.repeated) == (20, 10, 10, False)
    assert await scalar(seeded_db, "SELECT count(*) FROM inventory.msisdn") == 1010
    assert await scalar(seeded_db, "SELECT count(*) FROM inventory.msisdn WHERE range_id = :r", r=result.range_id) == 10
    before = await state_of_everything(seeded_db)
    again = await add_msisdn_range("90000990", "90001009")
    assert (again.added, again.repeated) == (0, True) and await state_of_everything(seeded_db) == before
    wider = await add_msisdn_range("90000995", "90001019")
    assert (wider.added, wider.skipped) == (10, 15)
    assert await scalar(seeded_db, "SELECT count(*) FROM inventory.msisdn") == 1020


async def test_add_range_refuses_bad_and_huge_ranges(seeded_db):
    await refused(seeded_db, add_msisdn_range("91000000", "91100000"), "inventory.msisdn.range_too_large")
    await refused(seeded_db, add_msisdn_range("90001009", "90000990"), "inventory.msisdn.range_invalid")
    await refused(seeded_db, add_msisdn_range("9000", "9001"), "inventory.msisdn.range_invalid")
    await refused(seeded_db, add_msisdn_range("9000099x", "90001000"), "inventory.msisdn.range_invalid")
    await refused(seeded_db, add_msisdn_range("90000990", "900001000"), "inventory.msisdn.range_invalid")
    big = await add_msisdn_range("91000000", "91099999")  # exactly the limit
    assert big.added == 100_000


async def test_low_watermark_is_recorded_once_per_crossing(seeded_db):
    async with seeded_db.begin() as conn:
        await conn.execute(text("INSERT INTO inventory.pool_watermark (pool, threshold) VALUES ('msisdn', 998)"))
    await reserve_msisdn("ORD-1")  # 999 left: still at or above 998
    assert await events(seeded_db, "inventory.msisdn.low_watermark") == []
    await asyncio.gather(*(reserve_msisdn(f"ORD-{i}") for i in range(2, 8)))  # cross, concurrently
    await reserve_msisdn("ORD-8")
    crossings = await events(seeded_db, "inventory.msisdn.low_watermark")
    assert len(crossings) == 1 and crossings[0][1]["threshold"] == 998
    for i in range(1, 9):  # returns lift the pool back and re-arm the alert
        await release_reservations(f"ORD-{i}")
    assert len(await events(seeded_db, "inventory.msisdn.watermark_restored")) == 1
    await reserve_msisdn("ORD-9")
    await reserve_msisdn("ORD-10")
    await reserve_msisdn("ORD-11")
    assert len(await events(seeded_db, "inventory.msisdn.low_watermark")) == 2


async def test_esim_low_watermark_uses_the_default_threshold(seeded_db):
    async with seeded_db.begin() as conn:
        await conn.execute(text("UPDATE inventory.esim_profile SET state = 'recycled'"
                                " WHERE iccid IN (SELECT iccid FROM inventory.esim_profile ORDER BY iccid LIMIT 900)"))
    await reserve_esim("ORD-1")  # 100 → 99 available: below the default of 100
    await reserve_esim("ORD-2")
    assert [e[1] for e in await events(seeded_db, "inventory.esim.low_watermark")] == [
        {"available": 99, "threshold": 100}]


async def test_inside_a_workflow_the_audit_names_the_calling_flow(seeded_db):
    from temporalio.testing import ActivityEnvironment

    number = await ActivityEnvironment().run(reserve_msisdn, "ORD-FLOW")
    assert await rows(seeded_db, "SELECT actor, channel FROM audit.domain_event WHERE aggregate_id = :n", n=number) == [
        ("system", "system:test")]


def test_activity_inputs_and_results_survive_the_temporal_data_converter():
    from temporalio.contrib.pydantic import pydantic_data_converter

    from domain.inventory import EsimReservation, RangeResult, ReleaseResult

    converter = pydantic_data_converter.payload_converter
    values = [EsimReservation(iccid="89", imsi="5", smdp_address="h", matching_id="m", activation_code="LPA:1$h$m"),
              ReleaseResult(order_id="ORD-1", msisdns=["90000001"]),
              RangeResult(range_id="MR-1-2", first="1", last="2", size=2, added=1, skipped=1), T0]
    back = converter.from_payloads(converter.to_payloads(values), [type(v) for v in values])
    assert back == values
