"""Issue customer bills (TMF678): one bill per charge, idempotent on the caller's business key.

The order workflow calls `issue_bill` after activation (`order-ORD-…:bill`), the subscription
workflow after a renewal or VAS charge (`sub-SUB-…:renewal:3`). A retry with the same key returns
the bill already issued and writes nothing; the unique index on the key decides a race. A bill
must match its payment exactly (same customer, approved, amount = sum of the lines), and a
payment settles at most one bill.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from temporalio import activity

from activities.payment import activity_edge
from activities.uow import UnitOfWork, unit_of_work
from core import clock
from core.db import get_engine
from core.errors import Conflict, NotFound, Violation
from domain.billing import BillState, IssueBill, IssuedBill, applied_billing_rate, customer_bill, line_id
from domain.ids import IdKind
from domain.money import MINOR_UNITS
from domain.payment import PaymentStatus, payment
from domain.subscription import subscription
from policies.base import raise_if, violation

Row = dict[str, Any]


class _AlreadyIssued(Exception):
    """Roll back: another call with the same key issued the bill first."""


def check_request(req: IssueBill) -> list[Violation]:
    """Rules on the request alone: lines present, amounts non-negative, one known currency, ordered period."""
    found = []
    if not req.lines:
        found.append(violation("bill.issue.lines_required", "a bill needs at least one line",
                               idempotency_key=req.idempotency_key))
    if any(line.amount_minor < 0 for line in req.lines):
        found.append(violation("bill.issue.amount_non_negative", "bill lines cannot be negative",
                               idempotency_key=req.idempotency_key))
    if unknown := sorted({line.currency for line in req.lines} - MINOR_UNITS.keys()):
        found.append(violation("bill.issue.currency_known", f"unknown currency {unknown[0]}", currencies=unknown))
    if len({line.currency for line in req.lines}) > 1:
        found.append(violation("bill.issue.single_currency", "every line of a bill must be in one currency",
                               currencies=sorted({line.currency for line in req.lines})))
    if req.period_end < req.period_start:
        found.append(violation("bill.issue.period_ordered", "the billing period ends before it starts",
                               period_start=req.period_start.isoformat(), period_end=req.period_end.isoformat()))
    return found


def check_against(req: IssueBill, line_customer_id: str, paid: Row | None) -> list[Violation]:
    """Rules against the loaded line and payment: same customer, and the payment covers the bill exactly."""
    total = sum(line.amount_minor for line in req.lines)
    currency = req.lines[0].currency
    found = []
    if line_customer_id != req.customer_id:
        found.append(violation("bill.issue.subscription_of_customer",
                               f"subscription {req.subscription_id} is not a line of {req.customer_id}",
                               subscription_id=req.subscription_id, customer_id=req.customer_id))
    if paid is None:
        if total > 0:
            found.append(violation("bill.issue.payment_required", "a bill with a positive amount needs its payment",
                                   amount_minor=total))
        return found
    if (paid["status"], paid["customer_id"], paid["amount_minor"], paid["currency"]) != (
            PaymentStatus.APPROVED.value, req.customer_id, total, currency):
        found.append(violation("bill.issue.payment_matches",
                               f"payment {paid['id']} must be an approved charge of {req.customer_id} "
                               f"for exactly {total} {currency}", payment_id=paid["id"],
                               payment_status=paid["status"], payment_amount_minor=paid["amount_minor"],
                               bill_amount_minor=total))
    return found


async def _by_key(conn: AsyncConnection, key: str) -> Row | None:
    row = (await conn.execute(select(customer_bill).where(customer_bill.c.idempotency_key == key))
           ).mappings().one_or_none()
    return dict(row) if row else None


def _replay(row: Row, req: IssueBill) -> IssuedBill:
    total = sum(line.amount_minor for line in req.lines)
    asked = (req.customer_id, req.subscription_id, req.kind.value, req.payment_id, total)
    if (row["customer_id"], row["subscription_id"], row["kind"], row["payment_id"], row["amount_minor"]) != asked:
        raise Conflict("bill.idempotency_key_reused",
                       f"idempotency key {req.idempotency_key} already issued a different bill ({row['id']})",
                       {"bill_id": row["id"], "idempotency_key": req.idempotency_key})
    return IssuedBill(bill_id=row["id"], amount_minor=row["amount_minor"], currency=row["currency"],
                      state=BillState(row["state"]), created=False)


@activity.defn(name="billing_issue_bill")
async def issue_bill(req: IssueBill) -> IssuedBill:
    """Issue the bill of one charge; a retry with the same idempotency key returns the same bill."""
    with activity_edge():
        raise_if(check_request(req))
        async with get_engine().connect() as conn:
            if (done := await _by_key(conn, req.idempotency_key)) is not None:
                return _replay(done, req)  # nothing written, no second audit event
        try:
            return await _issue(req)
        except _AlreadyIssued:
            async with get_engine().connect() as conn:
                done = await _by_key(conn, req.idempotency_key)
            if done is None:  # not our key that won: another bill took this payment
                raise Conflict("bill.payment_already_billed", f"payment {req.payment_id} already settles a bill",
                               {"payment_id": req.payment_id}) from None
            return _replay(done, req)


async def _issue(req: IssueBill) -> IssuedBill:
    async with unit_of_work() as uow:
        return await issue_bill_in(uow, req)


async def issue_bill_in(uow: UnitOfWork, req: IssueBill, line_owner: str | None = None) -> IssuedBill:
    """Inside `uow`, issue a checked request's bill (`_AlreadyIssued` when its key or payment was billed).

    `line_owner` is the line's customer when the caller created the line in this same unit of work
    (nobody else can see, let alone change, it yet): the line is then not read again.
    """
    total = sum(line.amount_minor for line in req.lines)
    currency = req.lines[0].currency
    conn = uow.conn
    # FOR SHARE: the line and the payment must not change under the bill (a refund, a transfer),
    # but concurrent readers and other bills of the same line need not wait.
    owner = line_owner or (await conn.execute(select(subscription.c.customer_id).where(
        subscription.c.id == req.subscription_id).with_for_update(read=True))).scalar_one_or_none()
    if owner is None:
        raise NotFound("subscription", req.subscription_id)
    paid, other = None, None
    if req.payment_id:
        # The bill this payment settles already, if any, read with the payment (the unique index on
        # the payment still decides a race between two bills).
        billed = (select(customer_bill.c.id).where(customer_bill.c.payment_id == payment.c.id)
                  .limit(1).scalar_subquery().label("billed_by"))
        row = (await conn.execute(select(payment, billed).where(payment.c.id == req.payment_id)
                                  .with_for_update(read=True, of=payment))).mappings().one_or_none()
        if row is None:
            raise NotFound("payment", req.payment_id)
        paid = dict(row)
        other = paid.pop("billed_by")
    raise_if(check_against(req, owner, paid))
    if other:
        if await _by_key(conn, req.idempotency_key) is not None:
            raise _AlreadyIssued
        raise Conflict("bill.payment_already_billed", f"payment {req.payment_id} already settles bill {other}",
                       {"payment_id": req.payment_id, "bill_id": other})
    now = clock.now()
    bill_id = await uow.next_id(IdKind.BILL)
    try:
        inserted = (await conn.execute(insert(customer_bill).values(
            id=bill_id, customer_id=req.customer_id, subscription_id=req.subscription_id, kind=req.kind.value,
            period_start=req.period_start, period_end=req.period_end, amount_minor=total, currency=currency,
            payment_id=req.payment_id, state=BillState.SETTLED.value, idempotency_key=req.idempotency_key,
            bill_date=now, created_at=now,
        ).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(customer_bill.c.id))).first()
    except IntegrityError as exc:  # the payment's unique index: a concurrent bill took it (ours or another key's)
        raise _AlreadyIssued from exc
    if inserted is None:
        raise _AlreadyIssued
    await conn.execute(insert(applied_billing_rate), [
        {"id": line_id(bill_id, n), "bill_id": bill_id, "subscription_id": req.subscription_id,
         "offering_id": line.offering_id, "description": line.description, "amount_minor": line.amount_minor,
         "currency": line.currency, "rate_type": line.rate_type.value, "period_start": req.period_start,
         "period_end": req.period_end, "is_billed": True}
        for n, line in enumerate(req.lines, start=1)])
    uow.record("bill.issued", "bill", bill_id, {
        "customerId": req.customer_id, "subscriptionId": req.subscription_id, "kind": req.kind.value,
        "amountMinor": total, "currency": currency, "paymentId": req.payment_id,
        "idempotencyKey": req.idempotency_key, "lines": len(req.lines)})
    return IssuedBill(bill_id=bill_id, amount_minor=total, currency=currency, state=BillState.SETTLED, created=True)
