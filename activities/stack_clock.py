"""The stack clock offset (DESIGN.md §6): move it, read it, and keep each process's `core.clock` on it.

The offset is one row of `audit.clock_offset`. Moving it commits the new value with its audit event
and a NOTIFY in the same transaction; every process of a time-skipping stack (API, worker) loads
the row once and then LISTENs, so business time agrees across processes with no query per request.
Outside scenario mode nothing here runs and the offset stays zero.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert

from activities.uow import unit_of_work
from core import clock
from core.db import get_engine
from core.pg_listen import ChannelListener
from core.settings import Settings, get_settings
from domain.audit import clock_offset
from domain.scenario_time import CHANNEL, ROW_ID, ScenarioClock

log = logging.getLogger("bss.clock")
ADVANCE_LOCK = 0x6273_7363_6C6B  # pg advisory lock key ("bssclk")


async def read_offset() -> timedelta:
    """The stack's offset as stored (zero when it never moved)."""
    async with get_engine().connect() as conn:
        seconds = (await conn.execute(
            select(func.coalesce(func.max(clock_offset.c.offset_seconds), 0)).where(clock_offset.c.id == ROW_ID)
        )).scalar_one()
    return timedelta(seconds=seconds)


async def add_to_offset(delta: timedelta) -> timedelta:
    """Add `delta` to the stack offset (serialised by the row lock), tell every process, return the new offset."""
    seconds = int(delta.total_seconds())
    async with unit_of_work() as uow:
        statement = insert(clock_offset).values(id=ROW_ID, offset_seconds=seconds)
        statement = statement.on_conflict_do_update(
            index_elements=[clock_offset.c.id],
            set_={"offset_seconds": clock_offset.c.offset_seconds + statement.excluded.offset_seconds})
        total = (await uow.conn.execute(statement.returning(clock_offset.c.offset_seconds))).scalar_one()
        uow.record("clock.advanced", "clock", "stack", {"by_seconds": seconds, "offset_seconds": total})
        # Delivered at commit, to every listening process (payload: the absolute offset).
        await uow.conn.execute(text("SELECT pg_notify(:channel, :payload)"),
                               {"channel": CHANNEL, "payload": str(total)})
    offset = timedelta(seconds=total)
    clock.set_offset(offset)
    return offset


@asynccontextmanager
async def one_advance_at_a_time() -> AsyncIterator[None]:
    """Serialise advances across every API process: two interleaved would move some workflows twice."""
    async with get_engine().connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVANCE_LOCK})
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVANCE_LOCK})
            await conn.commit()


def scenario_clock() -> ScenarioClock | None:
    """What a workflow started now carries: the offset in force on a time-skipping stack, else nothing."""
    return ScenarioClock(offset=clock.offset()) if get_settings().time_skipping else None


class OffsetFollower:
    """Keep this process's clock offset equal to the stack's: LISTEN, load the row, then apply each NOTIFY.

    A stack process starts beside PostgreSQL and before the migrations, so `start` retries until it
    has both a connection and the row's table; a lost connection is re-established the same way.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings or get_settings()
        self._listener = ChannelListener(settings.asyncpg_dsn(), CHANNEL, self._on_notify, on_attach=self._load)

    async def start(self) -> timedelta:
        """Follow the stack offset from now on; return once it has been loaded (retrying until it can be)."""
        await self._listener.start()
        return clock.offset()

    async def _load(self, conn: asyncpg.Connection) -> None:
        seconds = await conn.fetchval("SELECT offset_seconds FROM audit.clock_offset WHERE id = $1", ROW_ID)
        offset = timedelta(seconds=seconds or 0)
        clock.set_offset(offset)
        log.info("scenario time: following the stack clock, offset %s", offset)

    def _on_notify(self, payload: str) -> None:
        clock.set_offset(timedelta(seconds=int(payload)))

    async def stop(self) -> None:
        """Stop following (the offset stays where it is)."""
        await self._listener.stop()
