"""Inventory activities of the order and termination flows: reserve, release, assign, quarantine, recycle.

Each is a Temporal activity and a plain async function: one unit of work with its audit events,
idempotent on the order or subscription id, refusals raised as `PolicyViolation`. Concurrency:
the next free unit is taken with `FOR UPDATE SKIP LOCKED LIMIT 1`, so concurrent reservations
each lock a different row instead of queueing on one; a retry racing its own first attempt is
stopped by the partial unique index on `reserved_for` and then returns what the first one took.
Replenishment and operator moves live in `activities/inventory_pool.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from temporalio import activity

from activities.inventory_pool import PAST, Unchanged, acting_for_flow, after_return, after_takes
from activities.uow import UnitOfWork, unit_of_work
from core import clock
from core.db import get_engine
from domain import inventory as inv
from domain.inventory import (
    ESIM_HELD,
    MSISDN_HELD,
    EsimReservation,
    EsimState,
    MsisdnState,
    Pool,
    ReleaseResult,
    activation_code,
)
from policies.base import raise_if
from policies.inventory import (
    check_assign_esim,
    check_assign_msisdn,
    check_msisdn_available,
    check_msisdn_transition,
    check_order_holds,
    check_pool_not_empty,
)

MSISDN, ESIM = inv.msisdn, inv.esim_profile
Row = dict[str, Any]


def reservation(row: Any) -> EsimReservation:
    """What a device needs to download the profile of a held eSIM row."""
    return EsimReservation(iccid=row["iccid"], imsi=row["imsi"], smdp_address=row["smdp_address"],
                           matching_id=row["matching_id"],
                           activation_code=activation_code(row["smdp_address"], row["matching_id"]))


async def held_by(conn: AsyncConnection, table: Table, order_id: str, lock: bool = False) -> Row | None:
    """The number or profile this order holds (at most one: see the unique indexes)."""
    states = MSISDN_HELD if table is MSISDN else ESIM_HELD
    query = select(table).where(table.c.reserved_for == order_id, table.c.state.in_([s.value for s in states]))
    row = (await conn.execute(query.with_for_update() if lock else query)).mappings().first()
    return dict(row) if row else None


async def held_numbers(conn: AsyncConnection, order_id: str) -> tuple[str | None, str | None]:
    """The number and the profile this order holds, in one round trip (each at most one: unique indexes)."""
    def held(table: Table, key: Any, states: tuple[str, ...]) -> Any:
        return (select(key).where(table.c.reserved_for == order_id, table.c.state.in_([s.value for s in states]))
                .limit(1).scalar_subquery())

    row = (await conn.execute(select(held(MSISDN, MSISDN.c.number, MSISDN_HELD).label("number"),
                                     held(ESIM, ESIM.c.iccid, ESIM_HELD).label("iccid")))).one()
    return row.number, row.iccid


def _reserved(order_id: str) -> dict[str, Any]:
    now = clock.now()
    return {"state": "reserved", "reserved_for": order_id, "reserved_at": now, "updated_at": now}


async def _take_next(conn: AsyncConnection, table: Table, key: Any, order_id: str) -> Row | None:
    # One statement: the subquery locks the next free row and the UPDATE reserves it. SKIP LOCKED: a
    # row another reservation is taking right now is passed over, not waited for; a row one took and
    # committed since our snapshot is re-checked against `state = 'available'` and passed over too.
    free = (select(key).where(table.c.state == "available").order_by(key).limit(1)
            .with_for_update(skip_locked=True).scalar_subquery())
    row = (await conn.execute(update(table).where(key == free).values(**_reserved(order_id))
                              .returning(table))).mappings().first()
    return dict(row) if row else None


Pick = Callable[[UnitOfWork, str], Awaitable[Row]]


async def take_in(uow: UnitOfWork, table: Table, order_id: str, pick: Pick, pool: Pool) -> Row:
    """Reserve the row `pick` takes for `order_id` inside `uow` (the caller checked it holds none
    and runs `after_takes` for the pool afterwards)."""
    taken = await pick(uow, order_id)
    key = table.c.number if table is MSISDN else table.c.iccid
    uow.record(f"inventory.{pool.value}.reserved", table.name, taken[key.name], {"order_id": order_id})
    return taken


async def _take(table: Table, order_id: str, pick: Pick, pool: Pool) -> Row:
    """Reserve one row for `order_id` (or return the one it already holds) in one unit of work."""
    async with get_engine().connect() as conn:
        if (held := await held_by(conn, table, order_id)) is not None:
            return held  # a retry after the first attempt committed
    try:
        async with unit_of_work() as uow:
            taken = await take_in(uow, table, order_id, pick, pool)
            await after_takes(uow, [pool])
            return taken
    except IntegrityError:
        async with get_engine().connect() as conn:
            if (held := await held_by(conn, table, order_id)) is not None:
                return held  # a concurrent attempt for the same order won; use its row
        raise


def pick_msisdn(preferred: str | None) -> Pick:
    """Take the preferred number (refused unless available) or the next available one."""

    async def pick(uow: UnitOfWork, order_id: str) -> Row:
        if preferred is None:
            row = await _take_next(uow.conn, MSISDN, MSISDN.c.number, order_id)
            raise_if(check_pool_not_empty(Pool.MSISDN, row and row["number"]))
            assert row is not None
            return row
        # Wait for (not skip) a lock on a chosen number: its true state decides the answer.
        reserve = update(MSISDN).where(MSISDN.c.number == preferred).values(**_reserved(order_id)).returning(MSISDN)
        taken = (await uow.conn.execute(reserve.where(MSISDN.c.state == MsisdnState.AVAILABLE.value))).mappings().first()
        if taken is None:  # say why, from its state as it stands (locked, so it stays so)
            state = (await uow.conn.execute(select(MSISDN.c.state).where(MSISDN.c.number == preferred)
                                            .with_for_update())).scalar_one_or_none()
            raise_if(check_msisdn_available(preferred, state))
            taken = (await uow.conn.execute(reserve)).mappings().one()  # released in between: ours now
        return dict(taken)

    return pick


async def pick_esim(uow: UnitOfWork, order_id: str) -> Row:
    """Take the next available eSIM profile (refused when the pool is empty)."""
    row = await _take_next(uow.conn, ESIM, ESIM.c.iccid, order_id)
    raise_if(check_pool_not_empty(Pool.ESIM, row and row["iccid"]))
    assert row is not None
    return row


@activity.defn(name="inventory_reserve_msisdn")
async def reserve_msisdn(order_id: str, preferred: str | None = None) -> str:
    """Reserve the preferred number, or the next available one, for an order; idempotent on the order."""
    with acting_for_flow():
        return (await _take(MSISDN, order_id, pick_msisdn(preferred), Pool.MSISDN))["number"]


@activity.defn(name="inventory_reserve_esim")
async def reserve_esim(order_id: str) -> EsimReservation:
    """Reserve the next available eSIM profile for an order; idempotent on the order."""
    with acting_for_flow():
        return reservation(await _take(ESIM, order_id, pick_esim, Pool.ESIM))


@activity.defn(name="inventory_release_reservations")
async def release_reservations(order_id: str, keep: list[str] | None = None) -> ReleaseResult:
    """Give back everything an unfinished order reserved (downloaded profiles are retired) but the
    pools in `keep` ("msisdn", "esim": an element still holds them); idempotent."""
    held = set(keep or ())
    with acting_for_flow():
        try:
            async with unit_of_work() as uow:
                now = clock.now()
                cleared = {"reserved_for": None, "reserved_at": None, "updated_at": now}
                numbers, iccids, retired = [], [], []
                if Pool.MSISDN.value not in held:
                    numbers = await _move(uow, MSISDN, order_id, MsisdnState.RESERVED, MsisdnState.AVAILABLE,
                                          cleared)
                if Pool.ESIM.value not in held:
                    iccids = await _move(uow, ESIM, order_id, EsimState.RESERVED, EsimState.AVAILABLE, cleared)
                    # A profile that reached a device can never be issued again (SPEC §2: recycled is terminal).
                    retired = await _move(uow, ESIM, order_id, EsimState.DOWNLOADED, EsimState.RECYCLED,
                                          {"updated_at": now})
                result = ReleaseResult(order_id=order_id, msisdns=numbers, iccids=iccids, recycled_iccids=retired)
                if not result.released:
                    raise Unchanged(result)
                for number in numbers:
                    uow.record("inventory.msisdn.released", "msisdn", number, {"order_id": order_id})
                for iccid in iccids:
                    uow.record("inventory.esim.released", "esim_profile", iccid, {"order_id": order_id})
                for iccid in retired:
                    uow.record("inventory.esim.recycled", "esim_profile", iccid,
                               {"order_id": order_id, "reason": "order released after download"})
                if numbers:
                    await after_return(uow, Pool.MSISDN)
                if iccids:
                    await after_return(uow, Pool.ESIM)
        except Unchanged as nothing:
            return nothing.result
        return result


async def _move(uow: UnitOfWork, table: Table, order_id: str, source: str, target: str,
                values: dict[str, Any]) -> list[str]:
    key = table.c.number if table is MSISDN else table.c.iccid
    # The WHERE is the transition's precondition; the row lock it takes makes it the last word.
    rows = await uow.conn.execute(update(table).where(table.c.reserved_for == order_id, table.c.state == source)
                                  .values(state=target, **values).returning(key))
    return sorted(rows.scalars())


@activity.defn(name="inventory_mark_esim_downloaded")
async def mark_esim_downloaded(order_id: str) -> EsimReservation:
    """Record that the order's profile was downloaded to the device (reserved → downloaded); idempotent."""
    with acting_for_flow():
        try:
            async with unit_of_work() as uow:
                row = await held_by(uow.conn, ESIM, order_id, lock=True)
                raise_if(check_order_holds(Pool.ESIM, order_id, row and row["iccid"]))
                assert row is not None
                if row["state"] != EsimState.RESERVED:
                    raise Unchanged(row)
                await _set(uow, ESIM, row["iccid"], "download", {"order_id": order_id},
                           state=EsimState.DOWNLOADED.value)
        except Unchanged as done:
            return reservation(done.result)
        return reservation(row)


async def _set(uow: UnitOfWork, table: Table, ident: str, event: str, payload: dict[str, Any], **values: Any) -> None:
    key = table.c.number if table is MSISDN else table.c.iccid
    await uow.conn.execute(update(table).where(key == ident).values(updated_at=clock.now(), **values))
    pool = Pool.MSISDN if table is MSISDN else Pool.ESIM
    uow.record(f"inventory.{pool.value}.{PAST[event]}", table.name, ident, payload)


@activity.defn(name="inventory_assign_resources")
async def assign_resources(order_id: str, subscription_id: str) -> None:
    """Hand the order's number and profile to its new subscription (eSIM → downloaded → activated)."""
    with acting_for_flow():
        try:
            async with unit_of_work() as uow:
                await assign_in(uow, order_id, subscription_id)
                if not uow.events:
                    raise Unchanged  # a retry: both were handed over already
        except Unchanged:
            return


async def assign_in(uow: UnitOfWork, order_id: str, subscription_id: str) -> None:
    """Inside `uow`, assign the order's number and activate its profile for the subscription (idempotent)."""
    payload = {"order_id": order_id, "subscription_id": subscription_id}
    if await _assign_reserved(uow, order_id, subscription_id, payload):
        return
    await _assign_locked(uow, order_id, subscription_id, payload)


async def _assign_reserved(uow: UnitOfWork, order_id: str, subscription_id: str, payload: Row) -> bool:
    """The usual case in two conditional writes: the number reserved and the profile reserved or
    downloaded for this order. False when either is not so (the locked path then decides)."""
    now = clock.now()
    number = (await uow.conn.execute(update(MSISDN).where(
        MSISDN.c.reserved_for == order_id, MSISDN.c.state == MsisdnState.RESERVED.value,
    ).values(state=MsisdnState.ASSIGNED.value, assigned_to=subscription_id, updated_at=now)
        .returning(MSISDN.c.number))).scalar_one_or_none()
    if number is None:
        return False
    uow.record(f"inventory.{Pool.MSISDN.value}.{PAST['assign']}", MSISDN.name, number, payload)
    # The CTE locks the profile and keeps its state before the write (was it downloaded yet?).
    before = (select(ESIM.c.iccid, ESIM.c.state).where(
        ESIM.c.reserved_for == order_id, ESIM.c.state.in_([EsimState.RESERVED.value, EsimState.DOWNLOADED.value]))
        .with_for_update().cte("before"))
    profile = (await uow.conn.execute(update(ESIM).where(ESIM.c.iccid == before.c.iccid).values(
        state=EsimState.ACTIVATED.value, assigned_msisdn=number, updated_at=now,
    ).returning(ESIM.c.iccid, before.c.state.label("state_before")))).first()
    if profile is None:
        return False  # the number's write stays: the locked path sees it assigned to this line
    if profile.state_before == EsimState.RESERVED:  # downloaded and activated in one write, both recorded
        uow.record(f"inventory.{Pool.ESIM.value}.{PAST['download']}", ESIM.name, profile.iccid, payload)
    uow.record(f"inventory.{Pool.ESIM.value}.{PAST['activate']}", ESIM.name, profile.iccid,
               {**payload, "msisdn": number})
    return True


async def _assign_locked(uow: UnitOfWork, order_id: str, subscription_id: str, payload: Row) -> None:
    number_row = await held_by(uow.conn, MSISDN, order_id, lock=True)
    profile = await held_by(uow.conn, ESIM, order_id, lock=True)
    raise_if([*check_order_holds(Pool.MSISDN, order_id, number_row and number_row["number"]),
              *check_order_holds(Pool.ESIM, order_id, profile and profile["iccid"])])
    assert number_row is not None and profile is not None
    number = number_row["number"]
    raise_if([*check_assign_msisdn(number, number_row["state"], number_row["assigned_to"], subscription_id),
              *check_assign_esim(profile["iccid"], profile["state"], profile["assigned_msisdn"], number)])
    if number_row["state"] == MsisdnState.RESERVED:
        await _set(uow, MSISDN, number, "assign", payload, state=MsisdnState.ASSIGNED.value,
                   assigned_to=subscription_id)
    if profile["state"] in (EsimState.RESERVED, EsimState.DOWNLOADED):
        if profile["state"] == EsimState.RESERVED:  # downloaded and activated in one write, both recorded
            uow.record(f"inventory.{Pool.ESIM.value}.{PAST['download']}", ESIM.name, profile["iccid"], payload)
        await _set(uow, ESIM, profile["iccid"], "activate", {**payload, "msisdn": number},
                   state=EsimState.ACTIVATED.value, assigned_msisdn=number)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@activity.defn(name="inventory_release_for_termination")
async def release_for_termination(subscription_id: str, as_of: dt.datetime) -> None:
    """Put a terminated line's number in quarantine until `as_of` + 90 days and recycle its eSIM; idempotent."""
    until = _aware(as_of) + dt.timedelta(days=inv.QUARANTINE_DAYS)
    with acting_for_flow():
        try:
            async with unit_of_work() as uow:
                rows = (await uow.conn.execute(select(MSISDN).where(MSISDN.c.assigned_to == subscription_id)
                                               .order_by(MSISDN.c.number).with_for_update())).mappings().all()
                payload = {"subscription_id": subscription_id}
                for row in rows:
                    # A ported-out number is not ours to move any more; the line still ends.
                    if row["state"] == MsisdnState.ASSIGNED:
                        raise_if(check_msisdn_transition(row["number"], row["state"], "quarantine"))
                        await _set(uow, MSISDN, row["number"], "quarantine", {**payload, "until": until.isoformat()},
                                   state=MsisdnState.QUARANTINE.value, quarantine_until=until)
                live = [EsimState.DOWNLOADED.value, EsimState.ACTIVATED.value, EsimState.SUSPENDED.value]
                profiles = (await uow.conn.execute(select(ESIM.c.iccid).where(
                    ESIM.c.assigned_msisdn.in_([r["number"] for r in rows]), ESIM.c.state.in_(live))
                    .order_by(ESIM.c.iccid).with_for_update())).scalars().all()
                for iccid in profiles:
                    await _set(uow, ESIM, iccid, "recycle", payload, state=EsimState.RECYCLED.value)
                if not uow.events:
                    raise Unchanged
        except Unchanged:
            return


@activity.defn(name="inventory_recycle_quarantined")
async def recycle_quarantined(as_of: dt.datetime) -> int:
    """Return every number whose quarantine ended by `as_of` to the pool; return how many."""
    with acting_for_flow():
        try:
            async with unit_of_work() as uow:
                numbers = (await uow.conn.execute(update(MSISDN).where(
                    MSISDN.c.state == MsisdnState.QUARANTINE.value, MSISDN.c.quarantine_until <= _aware(as_of),
                ).values(state=MsisdnState.AVAILABLE.value, assigned_to=None, reserved_for=None, reserved_at=None,
                         quarantine_until=None, updated_at=clock.now()).returning(MSISDN.c.number))).scalars().all()
                if not numbers:
                    raise Unchanged
                for number in sorted(numbers):
                    uow.record("inventory.msisdn.recycled", "msisdn", number, {"as_of": _aware(as_of).isoformat()})
                await after_return(uow, Pool.MSISDN)
        except Unchanged:
            return 0
        return len(numbers)
