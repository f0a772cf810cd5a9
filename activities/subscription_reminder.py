"""The renewal reminder: the line workflow's timer 3 days before a period end records what it will cost.

Nothing else happens at T-3d, so the workflow calls `remind_renewal` and the audit event it records
(`subscription.renewal_reminder_due`) is what the notifier turns into the customer's mail. It is
recorded once per period (a retried activity or a replayed run finds the earlier event), and not at
all for a line that will not renew on its timer (terminated, or waiting for an explicit renew).
"""

from __future__ import annotations

from sqlalchemy import select
from temporalio import activity

from activities.subscription import Unchanged, lock_line
from activities.subscription_renewal import renewal_terms
from activities.uow import unit_of_work
from core.errors import PolicyViolation
from domain.audit import domain_event
from domain.subscription_ops import BlockReason

REMINDER_EVENT = "subscription.renewal_reminder_due"


@activity.defn(name="subscription_renewal_reminder")
async def remind_renewal(subscription_id: str, period_number: int) -> bool:
    """Record that the line renews at the end of `period_number` and for how much; once. True when recorded."""
    try:
        async with unit_of_work() as uow:
            row = await lock_line(uow.conn, subscription_id)
            if (row["period_number"] != period_number or row["state"] not in ("active", "blocked")
                    or row["blocked_reason"] == BlockReason.RENEWAL_DECLINED):
                raise Unchanged  # renewed meanwhile, or the timer will not charge this line
            e = domain_event.c
            earlier = (await uow.conn.execute(select(e.id).where(
                e.aggregate_type == "subscription", e.aggregate_id == subscription_id, e.event_type == REMINDER_EVENT,
                e.payload["periodNumber"].as_integer() == period_number).limit(1))).first()
            if earlier is not None:
                raise Unchanged
            # The price the timer will charge: a pending plan change and a due migration included.
            terms = await renewal_terms(subscription_id, row["current_period_end"])
            uow.record(REMINDER_EVENT, "subscription", subscription_id, {
                "periodNumber": period_number, "periodEnd": row["current_period_end"].isoformat(),
                "offeringId": terms.offering_id, "offeringName": terms.offering_name,
                "priceMinor": terms.price_minor, "currency": terms.currency})
    except (Unchanged, PolicyViolation):
        return False
    return True
