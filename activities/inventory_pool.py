"""Inventory pool upkeep: the low-watermark alert, replenishment (add-range, add one) and operator moves.

The watermark is a flag per pool (`inventory.pool_watermark.low`) flipped by a conditional
upsert, so of many concurrent reservations that leave the pool low exactly one records
`inventory.<pool>.low_watermark`; it re-arms when replenishment or releases lift the pool back.
Counting is bounded (`LIMIT threshold`): we only need to know "below or not", never the total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, Text, case, column, false, func, literal, select, text, update, values
from sqlalchemy.dialects.postgresql import insert as pg_insert
from temporalio import activity

from activities.uow import UnitOfWork, unit_of_work
from core import clock, context
from core.context import RequestContext
from core.errors import Conflict, NotFound
from domain import inventory as inv
from domain.inventory import BatchResult, EsimLoad, EsimState, MsisdnState, Pool, RangeResult
from domain.ordering import product_order
from domain.subscription import LIVE_STATES, subscription
from policies.base import raise_if
from policies.inventory import (
    check_esim_transition,
    check_msisdn_transition,
    check_not_on_live_line,
    check_number_format,
    check_range,
    check_release_by_operator,
    event_for_target,
)

PAST = {"reserve": "reserved", "release": "released", "assign": "assigned", "quarantine": "quarantined",
        "recycle": "recycled", "port_out": "ported_out", "download": "downloaded", "activate": "activated",
        "suspend": "suspended", "resume": "resumed"}
Row = dict[str, Any]


class Unchanged(Exception):
    """Roll back a unit of work that found nothing to do: the audit log records changes only."""

    def __init__(self, result: Any = None) -> None:
        super().__init__("nothing to change")
        self.result = result


@contextmanager
def acting_for_flow() -> Iterator[None]:
    """Inside a Temporal activity, write as the system on behalf of the calling workflow."""
    if not activity.in_activity():
        yield
        return
    ctx = RequestContext(actor="system", channel=f"system:{activity.info().workflow_type}",
                         service_identity="system")
    with context.acting_as(ctx):
        yield


def _pool_table(pool: Pool) -> Table:
    return inv.msisdn if pool is Pool.MSISDN else inv.esim_profile


async def _watermark(uow: UnitOfWork, pool: Pool) -> tuple[int, bool]:
    row = (await uow.conn.execute(select(inv.pool_watermark.c.threshold, inv.pool_watermark.c.low)
                                  .where(inv.pool_watermark.c.pool == pool.value))).first()
    return (row.threshold, row.low) if row else (inv.DEFAULT_LOW_WATERMARK, False)


async def _available_up_to(uow: UnitOfWork, pool: Pool, limit: int) -> int:
    table = _pool_table(pool)
    # An index-only scan on ix_*_state that stops at `limit` rows, however large the pool grows.
    head = select(literal(1)).where(table.c.state == "available").limit(limit).subquery()
    return (await uow.conn.execute(select(func.count()).select_from(head))).scalar_one()


async def after_takes(uow: UnitOfWork, pools: list[Pool]) -> None:
    """Record `inventory.<pool>.low_watermark` once when takes leave a pool below its threshold."""
    wm = inv.pool_watermark
    keys = values(column("pool", Text), name="taken").data([(p.value,) for p in pools])
    threshold = func.coalesce(wm.c.threshold, inv.DEFAULT_LOW_WATERMARK)
    low = func.coalesce(wm.c.low, false())

    def head_count(table: Table) -> Any:
        # An index-only scan on ix_*_state that stops at the threshold, however large the pool grows.
        head = select(literal(1)).where(table.c.state == "available").limit(threshold).correlate(wm).subquery()
        return select(func.count()).select_from(head).scalar_subquery()

    # One round trip for every pool: its threshold, its flag and (only while armed: CASE skips the
    # count when the alert is already out) how many units are left, counted up to the threshold.
    available = case((low, None), (keys.c.pool == Pool.MSISDN.value, head_count(inv.msisdn)),
                     else_=head_count(inv.esim_profile))
    rows = (await uow.conn.execute(select(keys.c.pool, threshold.label("threshold"), low.label("low"),
                                          available.label("available"))
                                   .select_from(keys.outerjoin(wm, wm.c.pool == keys.c.pool)))).all()
    for row in rows:
        if not row.low and row.available < row.threshold:
            await _flip_low(uow, Pool(row.pool), row.threshold, row.available)


async def _flip_low(uow: UnitOfWork, pool: Pool, threshold: int, available: int) -> None:
    wm = inv.pool_watermark
    # Concurrent takers may all see the pool low; the row lock plus `WHERE NOT low` lets one win.
    flipped = (await uow.conn.execute(
        pg_insert(wm).values(pool=pool.value, threshold=threshold, low=True, changed_at=clock.now())
        .on_conflict_do_update(index_elements=[wm.c.pool], set_={"low": True, "changed_at": clock.now()},
                               where=wm.c.low.is_(False))
        .returning(wm.c.pool))).first()
    if flipped:
        uow.record(f"inventory.{pool.value}.low_watermark", "inventory_pool", pool.value,
                   {"available": available, "threshold": threshold})


async def after_return(uow: UnitOfWork, pool: Pool) -> None:
    """Re-arm the alert (and record it) once returns or replenishment lift the pool to its threshold."""
    threshold, low = await _watermark(uow, pool)
    if not low or await _available_up_to(uow, pool, threshold) < threshold:
        return
    wm = inv.pool_watermark
    cleared = (await uow.conn.execute(update(wm).where(wm.c.pool == pool.value, wm.c.low.is_(True))
                                      .values(low=False, changed_at=clock.now()).returning(wm.c.pool))).first()
    if cleared:
        uow.record(f"inventory.{pool.value}.watermark_restored", "inventory_pool", pool.value,
                   {"threshold": threshold})


@activity.defn(name="inventory_add_msisdn_range")
async def add_msisdn_range(first: str, last: str) -> RangeResult:
    """Add every number from `first` to `last` to the pool; a repeat is a no-op, overlaps are skipped."""
    with acting_for_flow():
        raise_if(check_range(first, last))
        size = int(last) - int(first) + 1
        range_id = f"MR-{first}-{last}"
        try:
            async with unit_of_work() as uow:
                now = clock.now()
                # The unique bounds serialise two identical adds: the second waits, then conflicts.
                created = (await uow.conn.execute(pg_insert(inv.msisdn_range).values(
                    id=range_id, first_number=first, last_number=last, size=size,
                    added_by=context.current().actor, created_at=now,
                ).on_conflict_do_nothing().returning(inv.msisdn_range.c.id))).first()
                if created is None:
                    raise Unchanged
                # Generated in the database: 100,000 numbers are one statement, not 100,000 parameters.
                added = (await uow.conn.execute(text(
                    "WITH ins AS (INSERT INTO inventory.msisdn (number, state, range_id, created_at, updated_at)"
                    " SELECT lpad(n::text, :width, '0'), 'available', :range_id, :now, :now"
                    " FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS n"
                    " ON CONFLICT (number) DO NOTHING RETURNING 1) SELECT count(*) FROM ins"),
                    {"width": len(first), "range_id": range_id, "now": now, "first": int(first), "last": int(last)})).scalar_one()
                uow.record("inventory.msisdn.range_added", "msisdn_range", range_id,
                           {"first": first, "last": last, "size": size, "added": added, "skipped": size - added})
                await after_return(uow, Pool.MSISDN)
        except Unchanged:
            return RangeResult(range_id=range_id, first=first, last=last, size=size, added=0, skipped=size,
                               repeated=True)
        return RangeResult(range_id=range_id, first=first, last=last, size=size, added=added, skipped=size - added)


async def add_esim_batch(profiles: list[EsimLoad]) -> BatchResult:
    """Add a vendor's batch of eSIM profiles, available; profiles already in the pool are skipped."""
    now = clock.now()
    async with unit_of_work() as uow:
        # No conflict target: a profile whose ICCID, IMSI or matching id is known already is skipped whole.
        added = (await uow.conn.execute(pg_insert(inv.esim_profile).values([
            {**p.model_dump(), "state": EsimState.AVAILABLE.value, "created_at": now, "updated_at": now}
            for p in profiles]).on_conflict_do_nothing().returning(inv.esim_profile.c.iccid))).scalars().all()
        uow.record("inventory.esim.batch_added", "esim_batch", f"{profiles[0].iccid}+{len(profiles) - 1}",
                   {"size": len(profiles), "added": len(added), "first": profiles[0].iccid,
                    "last": profiles[-1].iccid})
        await after_return(uow, Pool.ESIM)
    return BatchResult(size=len(profiles), added=len(added), skipped=len(profiles) - len(added))


async def add_esim(profile: EsimLoad) -> Row:
    """Add one profile to the pool (409 `inventory.esim.already_exists` when its ICCID, IMSI or matching id is known)."""
    async with unit_of_work() as uow:
        now = clock.now()
        row = (await uow.conn.execute(pg_insert(inv.esim_profile).values(
            **profile.model_dump(), state=EsimState.AVAILABLE.value, created_at=now, updated_at=now,
        ).on_conflict_do_nothing().returning(inv.esim_profile))).mappings().first()
        if row is None:
            raise Conflict("inventory.esim.already_exists", f"profile {profile.iccid} (or its IMSI or matching id)"
                           " is already in the pool", {"iccid": profile.iccid})
        uow.record("inventory.esim.added", "esim_profile", profile.iccid, {"imsi": profile.imsi})
        await after_return(uow, Pool.ESIM)
    return dict(row)


async def add_msisdn(number: str) -> Row:
    """Add one number to the pool (409 `inventory.msisdn.already_exists` when it is there already)."""
    raise_if(check_number_format(number))
    async with unit_of_work() as uow:
        now = clock.now()
        row = (await uow.conn.execute(pg_insert(inv.msisdn).values(
            number=number, state=MsisdnState.AVAILABLE.value, created_at=now, updated_at=now,
        ).on_conflict_do_nothing().returning(inv.msisdn))).mappings().first()
        if row is None:
            raise Conflict("inventory.msisdn.already_exists", f"number {number} is already in the pool",
                           {"msisdn": number})
        uow.record("inventory.msisdn.added", "msisdn", number, {})
        await after_return(uow, Pool.MSISDN)
    return dict(row)


def _moved_values(event: str, now: dt.datetime) -> dict[str, Any]:
    if event == "quarantine":
        return {"quarantine_until": now + dt.timedelta(days=inv.QUARANTINE_DAYS)}
    if event == "release":  # an operator frees what a failed or cancelled order left reserved
        return {"reserved_for": None, "reserved_at": None}
    if event == "recycle":  # back to the pool: forget every holder
        return {"assigned_to": None, "reserved_for": None, "reserved_at": None, "quarantine_until": None}
    return {}


async def _check_operator_move(uow: UnitOfWork, pool: Pool, row: Row, event: str) -> None:
    """Refuse a hand move that would pull a unit from under a live line or a running order."""
    ident = row["number"] if pool is Pool.MSISDN else row["iccid"]
    if event == "release":
        holder = row["reserved_for"]
        state = (await uow.conn.execute(select(product_order.c.state).where(product_order.c.id == holder))
                 ).scalar_one_or_none() if holder else None
        raise_if(check_release_by_operator(pool, ident, holder, state))
        return
    column = subscription.c.msisdn if pool is Pool.MSISDN else subscription.c.iccid
    line = (await uow.conn.execute(select(subscription.c.id).where(
        column == ident, subscription.c.state.in_([s.value for s in LIVE_STATES])).limit(1))).scalar_one_or_none()
    raise_if(check_not_on_live_line(pool, ident, line))


async def change_state(pool: Pool, ident: str, target: str, note: str | None = None) -> Row:
    """Move a number or profile to `target` by hand, along the operator's events of its state machine."""
    table = _pool_table(pool)
    key = table.c.number if pool is Pool.MSISDN else table.c.iccid
    try:
        async with unit_of_work() as uow:
            row = (await uow.conn.execute(select(table).where(key == ident).with_for_update())).mappings().first()
            if row is None:
                raise NotFound("msisdn" if pool is Pool.MSISDN else "esim_profile", ident)
            if row["state"] == target:
                raise Unchanged(dict(row))  # a repeated PATCH is not a second move
            if pool is Pool.MSISDN:
                event = event_for_target(inv.MSISDN_MACHINE, row["state"], target) or f"to_{target}"
                raise_if(check_msisdn_transition(ident, row["state"], event, operator=True))
            else:
                event = event_for_target(inv.ESIM_MACHINE, row["state"], target) or f"to_{target}"
                raise_if(check_esim_transition(ident, row["state"], event, operator=True))
            await _check_operator_move(uow, pool, row, event)
            now = clock.now()
            # Only the columns this pool has: recycling a profile by hand once failed on the number's columns.
            moved = (await uow.conn.execute(update(table).where(key == ident).values(
                state=target, updated_at=now, **{name: value for name, value in _moved_values(event, now).items()
                                                 if name in table.c}).returning(table))).mappings().one()
            uow.record(f"inventory.{pool.value}.{PAST[event]}", "msisdn" if pool is Pool.MSISDN else "esim_profile",
                       ident, {"from": row["state"], "to": target, "note": note})
            if target in (MsisdnState.AVAILABLE, EsimState.AVAILABLE):
                await after_return(uow, pool)
    except Unchanged as same:
        return same.result
    return dict(moved)
