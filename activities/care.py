"""Care lookups shared by case and ticket writes (and by the API's fast policy pre-checks).

Agents and the SLA matrix are CRM reference tables (`domain.crm`); customers belong to the customer
module and are read by column name, so care depends on their data, never on their code. `lock=True`
takes the row locks a write needs before its policies get the last word.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.care import UNRESOLVED_TICKET_STATUSES, case, trouble_ticket
from domain.crm import agent as agent_table
from domain.crm import ticket_sla

_UNRESOLVED = tuple(s.value for s in UNRESOLVED_TICKET_STATUSES)


class NothingChanged(Exception):
    """Raised inside a unit of work that has nothing to write, so it rolls back without an audit event."""


async def customer_status(conn: AsyncConnection, customer_id: str, lock: bool = False) -> str | None:
    """Return the customer's status, or None when there is no such customer."""
    # FOR SHARE: a customer cannot be closed while a case or ticket is being opened for them.
    sql = "SELECT status FROM crm.customer WHERE id = :id" + (" FOR SHARE" if lock else "")
    return (await conn.execute(text(sql), {"id": customer_id})).scalar_one_or_none()


async def agent(conn: AsyncConnection, agent_id: str) -> dict[str, Any] | None:
    """Return one agent (id, name, role, active), or None."""
    a = agent_table.c
    row = (await conn.execute(select(a.id, a.name, a.role, a.active).where(a.id == agent_id))).mappings().first()
    return dict(row) if row else None


async def agent_names(conn: AsyncConnection, agent_ids: Iterable[str | None]) -> dict[str, str]:
    """Map agent ids to their names (unknown ids are left out)."""
    ids = sorted({a for a in agent_ids if a})
    if not ids:
        return {}
    rows = await conn.execute(select(agent_table.c.id, agent_table.c.name).where(agent_table.c.id.in_(ids)))
    return {r.id: r.name for r in rows}


async def sla_minutes(conn: AsyncConnection, ticket_type: str, priority: str) -> tuple[int, int] | None:
    """Return (response, resolution) minutes for a ticket type × priority, or None when undefined."""
    s = ticket_sla.c
    row = (await conn.execute(select(s.response_minutes, s.resolution_minutes)
                              .where(s.ticket_type == ticket_type, s.priority == priority))).first()
    return (int(row[0]), int(row[1])) if row else None


def sla_due(created_at: dt.datetime, minutes: tuple[int, int]) -> tuple[dt.datetime, dt.datetime]:
    """Return (response due, resolution due) counted from `created_at`."""
    return created_at + dt.timedelta(minutes=minutes[0]), created_at + dt.timedelta(minutes=minutes[1])


async def least_loaded_agent(conn: AsyncConnection, role: str) -> str | None:
    """Pick the active agent of `role` with the fewest unresolved tickets (ties by id), locking the role."""
    a, t = agent_table.c, trouble_ticket.c
    candidates = (a.role == role, a.active.is_(True))
    # Locking every candidate serialises concurrent assignments to one role, so two tickets
    # opened at once cannot both see the same agent as least loaded.
    await conn.execute(select(a.id).where(*candidates).order_by(a.id).with_for_update())
    load = func.count(t.id)
    row = (await conn.execute(
        select(a.id).select_from(agent_table.outerjoin(
            trouble_ticket, (t.assigned_agent_id == a.id) & t.status.in_(_UNRESOLVED)))
        .where(*candidates).group_by(a.id).order_by(load, a.id).limit(1))).first()
    return row[0] if row else None


async def load_case(conn: AsyncConnection, case_id: str, lock: str | None = None) -> dict[str, Any] | None:
    """Return a case row as a dict; `lock` is 'update' or 'share' for a write."""
    query = select(case).where(case.c.id == case_id)
    if lock:
        query = query.with_for_update(read=lock == "share")
    row = (await conn.execute(query)).mappings().first()
    return dict(row) if row else None


async def case_ticket_statuses(conn: AsyncConnection, case_id: str, lock: bool = False) -> dict[str, str]:
    """Map each ticket of a case to its status (locked when closing, so none moves meanwhile)."""
    query = select(trouble_ticket.c.id, trouble_ticket.c.status).where(trouble_ticket.c.case_id == case_id)
    if lock:
        query = query.with_for_update()
    return {r.id: r.status for r in await conn.execute(query)}
