"""VAS on a line: the offer as sold now, the grant after payment, and the lapse of a timed pass.

A grant is keyed by `sub-{id}:vas:{request}` and by the payment that paid it (both unique), so a
retried grant finds the first one. Only a VAS that restores data lifts a block, and only a block
for exhausted data: a roaming top-up leaves a line blocked, and so does any top-up on a line
whose renewal went unpaid.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from temporalio import activity

from activities.catalog import get_offering, offering_allowances, resolve_price
from activities.subscription import Unchanged, acting, change_state, load_view, lock_line
from activities.subscription_balances import (
    data_consumed, data_exhausted, live_grants, rebuild, set_data_consumed,
)
from activities.uow import unit_of_work
from core.errors import Conflict, NotFound, PolicyViolation
from domain.catalog import VasExpiry
from domain.subscription import UNLIMITED, AllowanceType, SubscriptionState
from domain.subscription_flow import ExpireVas, GrantVas, LineView, VasGranted, VasOffer
from domain.subscription_ops import BlockReason, vas_grant
from policies import subscription as rules
from policies.base import raise_if

SELLABLE = "subscription.vas_purchase.offering_sellable"
DATA = AllowanceType.DATA.value


@activity.defn(name="subscription_vas_offer")
async def vas_offer(offering_id: str, as_of: dt.datetime) -> VasOffer:
    """Return a VAS as sold at `as_of` (price, expiry), or refuse one that is not a VAS on sale."""
    try:
        offering = await get_offering(offering_id)
    except NotFound:
        raise PolicyViolation(rules.check_vas_purchase("-", "active", offering_id, sellable=False)) from None
    raise_if(rules.check_vas_purchase("-", "active", offering_id, offering_kind=offering.kind.value))
    price = await resolve_price(offering_id, as_of, code=SELLABLE)
    return VasOffer(offering_id=offering_id, name=offering.name, price_id=price.price_id,
                    price_minor=price.price_minor, currency=price.currency, restores_data=offering.restores_data,
                    expiry=(offering.vas_expiry or VasExpiry.END_OF_PERIOD).value,
                    duration_seconds=offering.vas_duration_seconds)


@activity.defn(name="subscription_grant_vas")
async def grant_vas(cmd: GrantVas) -> VasGranted:
    """Add a paid VAS to the bundle; lift an exhaustion block if it restores data."""
    allowances = {a.allowance_type.value: a.quantity for a in await offering_allowances(cmd.offer.offering_id)}
    unblocked = False
    with acting(cmd):
        try:
            async with unit_of_work() as uow:
                row = await lock_line(uow.conn, cmd.subscription_id)
                done = (await uow.conn.execute(select(vas_grant.c.id).where(
                    (vas_grant.c.idempotency_key == cmd.idempotency_key)
                    | (vas_grant.c.payment_id == cmd.payment_id)))).first()
                if done is not None:
                    raise Unchanged
                raise_if(rules.check_vas_purchase(row["id"], row["state"], cmd.offer.offering_id, "vas",
                                                          blocked_reason=row["blocked_reason"]))
                if cmd.expires_at <= cmd.as_of:  # the period it was bought for is over: refused, and refunded
                    raise Conflict("subscription.vas_purchase.requires_paid_period",
                                   f"the period of {row['id']} ended before the top-up could start",
                                   {"subscription_id": row["id"], "expires_at": cmd.expires_at.isoformat()})
                await uow.conn.execute(vas_grant.insert().values(
                    idempotency_key=cmd.idempotency_key, subscription_id=row["id"],
                    offering_id=cmd.offer.offering_id, request_id=cmd.request_id, payment_id=cmd.payment_id,
                    price_minor=cmd.offer.price_minor, currency=cmd.offer.currency, allowances=allowances,
                    expiry=cmd.offer.expiry, period_number=row["period_number"], granted_at=cmd.as_of,
                    expires_at=cmd.expires_at,
                    data_consumed_at_grant=await _free_usage_mark(uow.conn, row["id"], allowances)))
                balances = await rebuild(uow.conn, row["id"], row["offering_id"])
                uow.record("subscription.vas.granted", "subscription", row["id"], {
                    "offeringId": cmd.offer.offering_id, "requestId": cmd.request_id, "paymentId": cmd.payment_id,
                    "allowances": allowances, "expiresAt": cmd.expires_at.isoformat(),
                    "balances": {k: {"total": t, "consumed": c} for k, (t, c) in balances.items()}})
                if (cmd.offer.restores_data and row["state"] == SubscriptionState.BLOCKED
                        and row["blocked_reason"] == BlockReason.DATA_EXHAUSTED and not data_exhausted(balances)):
                    await change_state(uow, row, "unblock", None, {"by": cmd.idempotency_key})
                    unblocked = True
        except Unchanged:
            pass
    return VasGranted(grant_key=cmd.idempotency_key, expires_at=cmd.expires_at, unblocked=unblocked,
                      line=await load_view(cmd.subscription_id))


async def _free_usage_mark(conn: AsyncConnection, subscription_id: str, allowances: dict[str, int]) -> int | None:
    """For an unlimited data pass: consumption at its start (an overlapping pass keeps the earlier mark)."""
    if allowances.get(DATA) != UNLIMITED:
        return None
    marks = [g["data_consumed_at_grant"] for g in await live_grants(conn, subscription_id)
             if g["data_consumed_at_grant"] is not None]
    return min([*marks, await data_consumed(conn, subscription_id)])


@activity.defn(name="subscription_expire_vas")
async def expire_vas(cmd: ExpireVas) -> LineView:
    """Let a timed VAS lapse: totals back to plan + the other grants; block if data is then used up."""
    with acting(cmd):
        try:
            async with unit_of_work() as uow:
                row = await lock_line(uow.conn, cmd.subscription_id)
                grant = (await uow.conn.execute(select(vas_grant).where(
                    vas_grant.c.idempotency_key == cmd.grant_key).with_for_update())).mappings().first()
                if grant is None or grant["expired_at"] is not None:
                    raise Unchanged
                await uow.conn.execute(update(vas_grant).where(vas_grant.c.id == grant["id"])
                                       .values(expired_at=cmd.as_of))
                mark = grant["data_consumed_at_grant"]
                others_unlimited = any(g["allowances"].get(DATA) == UNLIMITED
                                       for g in await live_grants(uow.conn, row["id"]))
                if mark is not None and not others_unlimited:
                    # Usage during the pass was free: the plan's data is where the pass found it.
                    await set_data_consumed(uow.conn, row["id"], min(mark, await data_consumed(uow.conn, row["id"])))
                balances = await rebuild(uow.conn, row["id"], row["offering_id"])
                uow.record("subscription.vas.expired", "subscription", row["id"], {
                    "offeringId": grant["offering_id"], "grantKey": cmd.grant_key, "asOf": cmd.as_of.isoformat(),
                    "balances": {k: {"total": t, "consumed": c} for k, (t, c) in balances.items()}})
                if row["state"] == SubscriptionState.ACTIVE and data_exhausted(balances):
                    await change_state(uow, row, "block", BlockReason.DATA_EXHAUSTED.value, {"by": cmd.grant_key})
        except Unchanged:
            pass
    return await load_view(cmd.subscription_id)
