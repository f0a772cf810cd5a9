"""The unit of work: one transaction per write, with its audit events committed in it.

Every write path opens `unit_of_work()`, changes rows through `uow.conn`, and calls
`uow.record(...)`; the events are inserted into `audit.domain_event` just before commit, in the
same transaction. A unit of work that recorded no event refuses to commit, so a write without
its audit row cannot be forgotten — it fails in the first test that exercises it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core import clock, context
from core.db import get_engine
from core.telemetry import current_trace_id
from domain.audit import domain_event
from domain.ids import ID_SEQUENCES, IdKind, format_id


class MissingAuditEvent(RuntimeError):
    """A unit of work tried to commit without recording what it did."""


@dataclass
class UnitOfWork:
    """An open transaction plus the audit events it will commit."""

    conn: AsyncConnection
    events: list[dict[str, Any]] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)

    def record(self, event_type: str, aggregate_type: str, aggregate_id: str,
               payload: dict[str, Any] | None = None) -> None:
        """Queue an audit event; it is written in this transaction, just before commit."""
        ctx = context.current()
        self.events.append({
            "occurred_at": clock.now(), "event_type": event_type,
            "aggregate_type": aggregate_type, "aggregate_id": aggregate_id,
            "actor": ctx.actor, "channel": ctx.channel, "service_identity": ctx.service_identity,
            "trace_id": current_trace_id(), "payload": payload or {}, "session_id": ctx.session_id,
        })

    async def next_id(self, kind: IdKind) -> str:
        """Draw the next business id of `kind` from its sequence."""
        schema, seq = ID_SEQUENCES[kind]
        number = (await self.conn.execute(text(f"SELECT nextval('{schema}.{seq}')"))).scalar_one()
        return format_id(kind, number)

    async def next_ids(self, kind: IdKind, count: int) -> list[str]:
        """Draw the next `count` business ids of `kind` in one round trip, in ascending order."""
        schema, seq = ID_SEQUENCES[kind]
        numbers = (await self.conn.execute(text(
            f"SELECT nextval('{schema}.{seq}') AS n FROM generate_series(1, :count) ORDER BY n"),
            {"count": count})).scalars()
        return [format_id(kind, n) for n in numbers]

    async def next_id_batches(self, counts: dict[IdKind, int]) -> dict[IdKind, list[str]]:
        """Draw `count` business ids of each kind, all kinds in one round trip, each in ascending order."""
        kinds = list(counts)
        # Sequence names come from ID_SEQUENCES (code, not input); the counts are bound parameters.
        parts = [f"SELECT {i} AS k, nextval('{ID_SEQUENCES[kind][0]}.{ID_SEQUENCES[kind][1]}') AS n"
                 f" FROM generate_series(1, :c{i})" for i, kind in enumerate(kinds)]
        rows = await self.conn.execute(text(" UNION ALL ".join(parts) + " ORDER BY k, n"),
                                       {f"c{i}": counts[kind] for i, kind in enumerate(kinds)})
        drawn: dict[IdKind, list[str]] = {kind: [] for kind in kinds}
        for k, n in rows:
            drawn[kinds[k]].append(format_id(kinds[k], n))
        return drawn


@asynccontextmanager
async def unit_of_work(engine: AsyncEngine | None = None) -> AsyncIterator[UnitOfWork]:
    """Open a transaction; commit it with its audit events, or roll everything back."""
    async with (engine or get_engine()).begin() as conn:
        uow = UnitOfWork(conn)
        yield uow
        if not uow.events:
            raise MissingAuditEvent("a write must record at least one audit event")
        result = await conn.execute(insert(domain_event).returning(domain_event.c.id), uow.events)
        uow.event_ids = list(result.scalars())
