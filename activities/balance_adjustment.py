"""Adjust one bucket of a line (TMF654 `adjustBalance`): a care agent's goodwill credit or correction.

Runs in the API process, as rating does: the line and its balance rows are locked, the rules decided
against them, the adjustment inserted and the bundle rebuilt (plan + grants + this period's
adjustments) in one unit of work with its audit event. A data credit that makes an exhausted line's
data usable again unblocks it; a debit that uses it up blocks it — the caller tells the line's workflow
after commit so the network follows. A retry with the same key returns the first adjustment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from activities.subscription import change_state, lock_line
from activities.subscription_balances import data_exhausted, rebuild
from activities.uow import unit_of_work
from core import clock, context
from core.db import get_engine
from core.errors import Conflict, NotFound
from domain.balance import balance_adjustment
from domain.subscription import AllowanceType, SubscriptionState, bundle_balance
from domain.subscription_ops import BlockReason
from policies import balance as rules
from policies.base import raise_if

Row = dict[str, Any]
ADJ = balance_adjustment.c


@dataclass(frozen=True)
class Adjust:
    """One adjustment asked for: `quantity` (signed, base units) of `allowance_type` on a line."""

    idempotency_key: str
    subscription_id: str
    allowance_type: AllowanceType
    quantity: int
    reason: str
    description: str | None


@dataclass(frozen=True)
class Adjusted:
    """The adjustment made (or found again), and the line's block change it caused: block, unblock or None."""

    row: Row
    created: bool
    line_change: str | None


async def find(where: Any) -> Row | None:
    """One adjustment row, or None."""
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(balance_adjustment).where(where))).mappings().first()
    return dict(row) if row else None


def _replay(row: Row, cmd: Adjust) -> Adjusted:
    asked = (cmd.subscription_id, cmd.allowance_type.value, cmd.quantity, cmd.reason)
    if (row["subscription_id"], row["allowance_type"], row["quantity"], row["reason"]) != asked:
        raise Conflict(rules.KEY_REUSED, f"this idempotency key already made adjustment {row['id']}, "
                                         "with another bucket, amount or reason", {"adjustment_id": row["id"]})
    return Adjusted(row=row, created=False, line_change=None)


class _Raced(Exception):
    """Roll back: a request with the same key committed between the look-up and the line lock."""


async def adjust(cmd: Adjust) -> Adjusted:
    """Credit (quantity > 0) or debit one bucket of a line, once per idempotency key."""
    if (done := await find(ADJ.idempotency_key == cmd.idempotency_key)) is not None:
        return _replay(done, cmd)
    try:
        number, change = await _adjust(cmd)
    except _Raced:
        number, change = None, None
    row = await find(ADJ.idempotency_key == cmd.idempotency_key)
    assert row is not None  # committed by us, or by the request that won the race
    return Adjusted(row=row, created=True, line_change=change) if number else _replay(row, cmd)


async def _adjust(cmd: Adjust) -> tuple[int, str | None]:
    ctx = context.current()
    async with unit_of_work() as uow:
        line = await lock_line(uow.conn, cmd.subscription_id)
        bucket = (await uow.conn.execute(select(bundle_balance).where(
            bundle_balance.c.subscription_id == cmd.subscription_id,
            bundle_balance.c.allowance_type == cmd.allowance_type.value).with_for_update())).mappings().first()
        if bucket is None:
            raise NotFound("bucket", f"{cmd.subscription_id}-{cmd.allowance_type.value}")
        raise_if(rules.check_bucket(line["id"], line["state"], bucket["total"], bucket["consumed"], cmd.quantity))
        number = (await uow.conn.execute(insert(balance_adjustment).values(
            idempotency_key=cmd.idempotency_key, subscription_id=line["id"], allowance_type=cmd.allowance_type.value,
            quantity=cmd.quantity, period_start=bucket["period_start"], reason=cmd.reason,
            description=cmd.description, requested_by=ctx.actor, channel=ctx.channel, created_at=clock.now(),
        ).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(ADJ.id))).scalar_one_or_none()
        if number is None:
            raise _Raced
        balances = await rebuild(uow.conn, line["id"], line["offering_id"])
        total, consumed = balances[cmd.allowance_type.value]
        uow.record("subscription.balance.adjusted", "subscription", line["id"], {
            "adjustmentId": number, "allowanceType": cmd.allowance_type.value, "quantity": cmd.quantity,
            "reason": cmd.reason, "idempotencyKey": cmd.idempotency_key,
            "before": {"total": bucket["total"], "consumed": bucket["consumed"]},
            "after": {"total": total, "consumed": consumed}})
        return number, await _block_follows_data(uow, line, balances, number)


async def _block_follows_data(uow: Any, line: Row, balances: dict[str, tuple[int, int]], by: int) -> str | None:
    exhausted = data_exhausted(balances)
    if (line["state"] == SubscriptionState.BLOCKED and line["blocked_reason"] == BlockReason.DATA_EXHAUSTED
            and not exhausted):
        await change_state(uow, line, "unblock", None, {"by": f"adjustment {by}"})
        return "unblock"
    if line["state"] == SubscriptionState.ACTIVE and exhausted:
        await change_state(uow, line, "block", BlockReason.DATA_EXHAUSTED.value, {"by": f"adjustment {by}"})
        return "block"
    return None
