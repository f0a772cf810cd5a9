"""Renewal of a line: what the next period costs, then the paid period applied.

Terms come first (read only) so the workflow can charge the exact amount; the charge is the
workflow's; `apply_renewal` then starts the period in one unit of work: balances reset to the
(new) plan's allowances, a scheduled plan change pivots, a due price migration is adopted, an
end-of-period VAS lapses, a block lifts. It is idempotent on `sub-{id}:renewal:{n}` and on the
payment (one payment renews one period), so a retry after a crash never renews twice.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from temporalio import activity

from activities.catalog import due_price_migration, get_offering
from activities.subscription import Unchanged, acting, change_state, line_view, load_view, lock_line, set_prices
from activities.subscription_balances import rebuild
from activities.uow import UnitOfWork, unit_of_work
from core import clock
from core.db import get_engine
from core.errors import Conflict
from domain.catalog import VasExpiry
from domain.subscription import SubscriptionState, subscription
from domain.subscription_flow import ApplyRenewal, LineView, RenewalTerms
from domain.subscription_ops import renewal, vas_grant
from policies import subscription as rules
from policies.base import raise_if


@activity.defn(name="subscription_renewal_terms")
async def renewal_terms(subscription_id: str, renewal_at: dt.datetime) -> RenewalTerms:
    """Price and plan of the next period: the snapshot, or the pending change's, or a due migration's."""
    async with get_engine().connect() as conn:
        line = await line_view(conn, subscription_id)
    raise_if(rules.check_renew(subscription_id, line.state))
    offering_id, price_id, price_minor = line.offering_id, line.price_id, line.price_minor
    if line.pending_offering_id and line.pending_price_minor is not None:
        offering_id, price_id, price_minor = line.pending_offering_id, line.pending_price_id, line.pending_price_minor
    migration = await due_price_migration(offering_id, renewal_at, price_id)
    if migration is not None:  # the operator's notice has run out: this period pays the new price
        price_id, price_minor = migration.to_price_id, migration.to_price_minor
    offering = await get_offering(offering_id)
    return RenewalTerms(subscription_id=subscription_id, customer_id=line.customer_id,
                        period_number=line.period_number + 1, offering_id=offering_id,
                        previous_offering_id=line.offering_id, offering_name=offering.name, price_id=price_id,
                        price_minor=price_minor, currency=migration.currency if migration else line.currency,
                        period_days=line.period_days, migration_id=migration.id if migration else None)


@activity.defn(name="subscription_apply_renewal")
async def apply_renewal(cmd: ApplyRenewal) -> LineView:
    """Start the paid period (balances reset, plan change pivoted, block lifted), once per period and payment."""
    terms = cmd.terms
    period = (cmd.period_start, cmd.period_start + dt.timedelta(days=terms.period_days))
    with acting(cmd):
        try:
            async with unit_of_work() as uow:
                row = await lock_line(uow.conn, terms.subscription_id)
                done = (await uow.conn.execute(select(renewal.c.id).where(
                    (renewal.c.idempotency_key == cmd.idempotency_key)
                    | (renewal.c.payment_id == cmd.payment_id)))).first()
                if done is not None:
                    raise Unchanged
                raise_if(rules.check_renew(row["id"], row["state"]))
                if row["period_number"] + 1 != terms.period_number:
                    raise Conflict("subscription.renewal.out_of_turn",
                                   f"{row['id']} is in period {row['period_number']}; cannot start {terms.period_number}",
                                   {"subscription_id": row["id"], "period_number": row["period_number"]})
                await _start_period(uow, row, cmd, period)
        except Unchanged:
            pass
    return await load_view(terms.subscription_id)


async def _start_period(uow: UnitOfWork, row: dict, cmd: ApplyRenewal, period: tuple[dt.datetime, dt.datetime]) -> None:
    terms, now = cmd.terms, clock.now()
    await uow.conn.execute(renewal.insert().values(
        idempotency_key=cmd.idempotency_key, subscription_id=row["id"], period_number=terms.period_number,
        kind=cmd.kind, offering_id=terms.offering_id, previous_offering_id=row["offering_id"],
        price_id=terms.price_id, price_minor=terms.price_minor, currency=terms.currency,
        migration_id=terms.migration_id, payment_id=cmd.payment_id, period_start=period[0], period_end=period[1],
        renewed_at=cmd.as_of))
    # End-of-period top-ups end with the period; a timed pass runs on, its free usage now counted from 0.
    grants = vas_grant.c
    await uow.conn.execute(update(vas_grant).where(
        grants.subscription_id == row["id"], grants.expired_at.is_(None),
        grants.expiry == VasExpiry.END_OF_PERIOD.value).values(expired_at=cmd.as_of))
    await uow.conn.execute(update(vas_grant).where(
        grants.subscription_id == row["id"], grants.expired_at.is_(None),
        grants.data_consumed_at_grant.is_not(None)).values(data_consumed_at_grant=0))
    await uow.conn.execute(update(subscription).where(subscription.c.id == row["id"]).values(
        offering_id=terms.offering_id, price_minor=terms.price_minor, currency=terms.currency,
        period_number=terms.period_number, current_period_start=period[0], current_period_end=period[1],
        pending_offering_id=None, pending_price_minor=None, updated_at=now))
    await set_prices(uow.conn, row["id"], price_id=terms.price_id, pending_price_id=None)
    balances = await rebuild(uow.conn, row["id"], terms.offering_id, period=period)
    uow.record("subscription.renewed", "subscription", row["id"], {
        "periodNumber": terms.period_number, "kind": cmd.kind, "paymentId": cmd.payment_id,
        "priceMinor": terms.price_minor, "currency": terms.currency, "periodStart": period[0].isoformat(),
        "periodEnd": period[1].isoformat(), "balances": {k: t for k, (t, _) in balances.items()}})
    if terms.offering_id != row["offering_id"]:
        uow.record("subscription.plan_change.applied", "subscription", row["id"], {
            "from": row["offering_id"], "to": terms.offering_id, "priceMinor": terms.price_minor})
    if terms.migration_id:
        uow.record("subscription.price_migrated", "subscription", row["id"], {
            "migrationId": terms.migration_id, "priceId": terms.price_id, "priceMinor": terms.price_minor})
    if row["state"] == SubscriptionState.BLOCKED:
        await change_state(uow, row, "unblock", None, {"by": cmd.idempotency_key, "was": row["blocked_reason"]})
