"""The SLA sweep's look-ahead: when the next ticket deadline falls, and what time the stack says it is."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from temporalio import activity

from core import clock
from core.db import get_engine
from domain.care import UNRESOLVED_TICKET_STATUSES, TicketStatus, trouble_ticket
from domain.ticket_sla_flow import SlaOutlook


def first_deadline():
    """The deadline whose passing escalates a ticket: the response one while it is `open`, else the resolution one."""
    t = trouble_ticket.c
    return case((t.status == TicketStatus.OPEN.value, func.least(t.sla_response_due, t.sla_resolution_due)),
                else_=t.sla_resolution_due)


@activity.defn(name="ticket_sla_outlook")
async def ticket_sla_outlook(as_of: dt.datetime) -> SlaOutlook:
    """Return the stack's business time and the earliest deadline after `as_of` of a ticket not yet escalated."""
    t = trouble_ticket.c
    due = first_deadline()
    # Mirrors `escalate_breached_tickets`: a deadline at or before `as_of` is that sweep's to escalate.
    query = select(func.min(due)).where(t.status.in_([s.value for s in UNRESOLVED_TICKET_STATUSES]),
                                        t.sla_breached.is_(False), due > as_of)
    async with get_engine().connect() as conn:
        next_due = (await conn.execute(query)).scalar_one()
    return SlaOutlook(business_now=clock.now(), next_due=next_due)
