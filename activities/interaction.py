"""Party interactions (TMF683): the contact log of a customer, written by every customer write."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from activities.uow import UnitOfWork, unit_of_work
from core import clock, context
from domain.customer import customer, party_interaction
from domain.ids import IdKind
from policies.base import raise_if
from policies.customer import check_interaction


@dataclass(frozen=True)
class NewInteraction:
    """What a client reports about a contact with a customer."""

    customer_id: str
    reason: str
    channel: str
    direction: str = "inbound"
    status: str = "completed"
    description: str | None = None
    start_at: dt.datetime | None = None
    end_at: dt.datetime | None = None


async def log_interaction(uow: UnitOfWork, customer_id: str, reason: str, *, description: str | None = None,
                          channel: str | None = None, direction: str = "inbound", status: str = "completed",
                          start_at: dt.datetime | None = None,
                          end_at: dt.datetime | None = None, interaction_id: str | None = None) -> dict[str, Any]:
    """Write one interaction inside the caller's unit of work, so it commits or rolls back with the write.

    `interaction_id` is one the caller drew already (with its own ids, in one round trip).
    """
    ctx = context.current()
    now = clock.now()
    if start_at is None:  # logged by a write as it happens: an instant, not a period
        start_at, end_at = now, end_at or now
    row = {
        "id": interaction_id or await uow.next_id(IdKind.INTERACTION), "customer_id": customer_id,
        # The surface that carried the request (cli, portal-csr, agent…) is the channel of record.
        "channel": channel or ctx.channel, "direction": direction, "status": status, "reason": reason,
        "description": description, "actor": ctx.actor, "start_at": start_at,
        "end_at": end_at, "created_at": now, "status_changed_at": now,
    }
    await uow.conn.execute(insert(party_interaction).values(**row))
    uow.record("party_interaction.created", "party_interaction", row["id"],
               {"customer_id": customer_id, "reason": reason, "channel": row["channel"]})
    return row


async def create_interaction(new: NewInteraction) -> dict[str, Any]:
    """Record an interaction reported through TMF683; the customer must exist."""
    async with unit_of_work() as uow:
        # FOR SHARE: the customer cannot vanish or change under the log entry (closing still may).
        found = (await uow.conn.execute(
            select(customer.c.id).where(customer.c.id == new.customer_id).with_for_update(read=True)
        )).scalars().all()
        raise_if(check_interaction([new.customer_id], found))
        return await log_interaction(uow, new.customer_id, new.reason, description=new.description,
                                     channel=new.channel, direction=new.direction, status=new.status,
                                     start_at=new.start_at, end_at=new.end_at)
