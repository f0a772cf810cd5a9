"""Charges and refunds through the gateway, idempotent on the caller's business key.

Both are Temporal activities (workflows call them with keys such as `order-ORD-000042:charge`)
and plain async functions (the API calls them directly). The key is enforced twice: the gateway
answers a replayed key with the same attempt, and `payment.payment` / `payment.refund` hold it
under a unique index, so a retry after a crash finds the stored outcome and never reaches the
gateway again. Declines are results; a gateway `error` is recorded, then raised as a retryable
`ExternalServiceError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.uow import unit_of_work
from core import clock, context
from core.context import RequestContext
from core.db import get_engine
from core.errors import BssError, Conflict, ExternalServiceError, NotFound
from domain.ids import IdKind
from domain.payment import (
    CHARGE_INTENT_MACHINE,
    AbandonedCharge,
    ChargeIntentState,
    PaymentMethodState,
    PaymentResult,
    PaymentStatus,
    RefundResult,
    RefundStatus,
    charge_intent,
    payment_method,
)
from domain.payment import payment as payment_t
from domain.payment import refund as refund_t
from policies.base import raise_if
from policies.payment import check_charge, check_refund
from simulators.payment_gateway import ChargeAttempt, IdempotencyMismatch, get_gateway

Row = dict[str, Any]


class ExternalServiceUnavailable(BssError):
    """The gateway kept failing under one key for as long as the caller allows: a final answer, not retried."""

    status = 503


class _AlreadyRecorded(Exception):
    """Roll back: another call with the same key recorded the outcome first (the row, when known)."""


@contextmanager
def activity_edge() -> Iterator[None]:
    """Inside a Temporal activity, act as the system and turn business refusals into non-retryable errors."""
    if not activity.in_activity():
        yield
        return
    ctx = RequestContext(actor="system", channel=f"system:{activity.info().workflow_type}",
                         service_identity="system")
    try:
        with context.acting_as(ctx):
            yield
    except ExternalServiceError:
        raise  # retryable: Temporal retries it with the activity's retry policy
    except BssError as exc:
        raise ApplicationError(exc.message, {"code": exc.code, "context": exc.context},
                               type=exc.code, non_retryable=True) from exc


def _payment_result(row: Row) -> PaymentResult:
    return PaymentResult(payment_id=row["id"], status=row["status"], amount_minor=row["amount_minor"],
                         currency=row["currency"], payment_method_id=row["payment_method_id"],
                         idempotency_key=row["idempotency_key"], decline_code=row["decline_code"],
                         gateway_reference=row["gateway_reference"])


def _refund_result(row: Row) -> RefundResult:
    return RefundResult(refund_id=row["id"], payment_id=row["payment_id"], status=row["status"],
                        amount_minor=row["amount_minor"], currency=row["currency"],
                        idempotency_key=row["idempotency_key"], decline_code=row["decline_code"],
                        gateway_reference=row["gateway_reference"])


def _refunded_of(payment_id: Any) -> Select:
    """What has been refunded of a payment (approved refunds only): a column or a literal id."""
    return select(func.coalesce(func.sum(refund_t.c.amount_minor), 0)).where(
        refund_t.c.payment_id == payment_id, refund_t.c.status == RefundStatus.APPROVED.value)


async def payment_by_key(conn: AsyncConnection, key: str) -> Row | None:
    """The final (approved/declined) payment recorded under an idempotency key, with what was refunded of it."""
    refunded = _refunded_of(payment_t.c.id).scalar_subquery().label("refunded_minor")
    row = (await conn.execute(select(payment_t, refunded).where(
        payment_t.c.idempotency_key == key, payment_t.c.status != PaymentStatus.ERROR.value))).mappings().one_or_none()
    return dict(row) if row else None


async def refunded_minor(conn: AsyncConnection, payment_id: str) -> int:
    """What has been refunded of a payment so far (approved refunds only)."""
    return (await conn.execute(_refunded_of(payment_id))).scalar_one()


async def charge_method(conn: AsyncConnection, customer_id: str, method_id: str | None) -> Row | None:
    """The card to charge: the one named, else the customer's active default."""
    query = select(payment_method)
    if method_id:
        query = query.where(payment_method.c.id == method_id)
    else:
        query = query.where(payment_method.c.customer_id == customer_id, payment_method.c.is_default,
                            payment_method.c.state == PaymentMethodState.ACTIVE.value)
    row = (await conn.execute(query)).mappings().one_or_none()
    return dict(row) if row else None


def _replay(row: Row, customer_id: str, amount_minor: int, currency: str) -> PaymentResult:
    if (row["customer_id"], row["amount_minor"], row["currency"]) != (customer_id, amount_minor, currency):
        raise Conflict("payment.idempotency_key_reused",
                       f"idempotency key {row['idempotency_key']} was used for a different charge ({row['id']})",
                       {"payment_id": row["id"], "idempotency_key": row["idempotency_key"]})
    if row["status"] == PaymentStatus.APPROVED.value and row.get("refunded_minor", 0) >= row["amount_minor"]:
        # The money of this key went back to the card: answering "approved" again would let a retried request
        # (a VAS bought after a refused grant, a renewal) be granted against money the customer already has back.
        raise Conflict("payment.charge.key_refunded",
                       f"the charge under {row['idempotency_key']} ({row['id']}) was refunded; retry with a new request",
                       {"payment_id": row["id"], "idempotency_key": row["idempotency_key"]})
    return _payment_result(row)


@activity.defn(name="payment_charge")
async def charge(customer_id: str, amount_minor: int, currency: str, purpose: str, reference: str | None,
                 idempotency_key: str, payment_method_id: str | None = None,
                 max_gateway_errors: int | None = None) -> PaymentResult:
    """Charge the customer's default card (or the one named) once per idempotency key."""
    with activity_edge():
        return await _charge(customer_id, amount_minor, currency, purpose, reference, idempotency_key,
                             payment_method_id, max_gateway_errors)


async def _charge(customer_id: str, amount_minor: int, currency: str, purpose: str, reference: str | None,
                  key: str, method_id: str | None, max_errors: int | None = None) -> PaymentResult:
    """Record the intent, then ask the gateway and record its answer under the intent's lock.

    The intent is committed before the gateway is asked, so an approval whose recording fails (the
    database away, the worker killed) is never lost: the retry takes the intent's lock and asks the
    gateway again under the same key (a replay, the same charge), and whoever gives up on the charge
    settles it from the gateway's record (`abandon_charge`). Holding the lock across the gateway call
    makes a late attempt and a give-up take turns, so nothing is charged under a key given up on.
    `max_errors` bounds the gateway `error` answers per key (counted here, not in Temporal's attempts,
    so an outage of our own database spends none of it).
    """
    async with get_engine().connect() as conn:
        if (done := await payment_by_key(conn, key)) is not None:
            return _replay(done, customer_id, amount_minor, currency)  # never call the gateway twice
        method = await charge_method(conn, customer_id, method_id)
    raise_if(check_charge(customer_id=customer_id, method_id=method and method["id"],
                          method_customer_id=method and method["customer_id"],
                          method_state=method and method["state"], amount_minor=amount_minor,
                          currency=currency))
    assert method is not None
    await _open_intent(key, customer_id, method["id"], amount_minor, currency, purpose, reference)
    try:
        async with unit_of_work() as uow:
            intent = await _locked_intent(uow.conn, key)
            if (done := await payment_by_key(uow.conn, key)) is not None:
                raise _AlreadyRecorded(done)  # another attempt recorded it while this one waited for the lock
            _check_intent(intent, customer_id, amount_minor, currency)
            card = await _intent_card(uow.conn, intent)
            try:
                attempt = get_gateway().charge(card["gateway_token"], amount_minor, currency, key)
            except IdempotencyMismatch as exc:
                raise Conflict("payment.idempotency_key_reused", str(exc), {"idempotency_key": key}) from exc
            row = await _record_attempt(uow, intent, attempt)
    except _AlreadyRecorded as recorded:
        return _replay(recorded.args[0], customer_id, amount_minor, currency)
    if attempt.status == PaymentStatus.ERROR:
        errors = intent["gateway_errors"] + 1
        if max_errors is not None and errors >= max_errors:
            raise ExternalServiceUnavailable("payment.gateway.unavailable",
                                             f"the payment gateway failed {errors} times; no charge was made",
                                             {"payment_id": row["id"], "idempotency_key": key})
        raise ExternalServiceError("payment.gateway.processing_error",
                                   "the payment gateway failed to process the charge; try again",
                                   {"payment_id": row["id"], "idempotency_key": key})
    return _payment_result(row)


async def _open_intent(key: str, customer_id: str, method_id: str, amount_minor: int, currency: str,
                       purpose: str, reference: str | None) -> None:
    """Write the intent down (committed) unless the key has one already."""
    async with unit_of_work() as uow:
        created = await _insert_intent(uow.conn, key, customer_id, method_id, amount_minor, currency, purpose,
                                       reference, ChargeIntentState.OPEN)
        uow.record("payment.charge_intent.opened", "charge_intent", key, {
            "customer_id": customer_id, "amount_minor": amount_minor, "currency": currency, "purpose": purpose,
            "reference": reference, "created": created})


async def _insert_intent(conn: AsyncConnection, key: str, customer_id: str, method_id: str | None, amount_minor: int,
                         currency: str, purpose: str, reference: str | None, state: ChargeIntentState) -> bool:
    """Insert the intent of a key unless it has one; True when this call created it."""
    created = (await conn.execute(pg_insert(charge_intent).values(
        idempotency_key=key, customer_id=customer_id, payment_method_id=method_id, amount_minor=amount_minor,
        currency=currency, purpose=purpose, reference=reference, state=state.value, created_at=clock.now(),
        updated_at=clock.now(),
    ).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(charge_intent.c.idempotency_key))
    ).scalar_one_or_none()
    return created is not None


async def _locked_intent(conn: AsyncConnection, key: str) -> Row:
    """The intent of a key, locked until the transaction ends."""
    row = (await conn.execute(select(charge_intent).where(charge_intent.c.idempotency_key == key)
                              .with_for_update())).mappings().one()
    return dict(row)


def _check_intent(intent: Row, customer_id: str, amount_minor: int, currency: str) -> None:
    """Refuse a charge under a key given up on, or under a key opened for another charge."""
    key = intent["idempotency_key"]
    if intent["state"] == ChargeIntentState.ABANDONED:
        raise Conflict("payment.charge.key_abandoned",
                       f"the charge under {key} was given up on, with nothing taken; retry with a new request",
                       {"idempotency_key": key})
    if (intent["customer_id"], intent["amount_minor"], intent["currency"]) != (customer_id, amount_minor, currency):
        raise Conflict("payment.idempotency_key_reused",
                       f"idempotency key {key} was used for a different charge", {"idempotency_key": key})


async def _intent_card(conn: AsyncConnection, intent: Row) -> Row:
    """The card the intent was opened for: a retry charges it again, even if the default changed since."""
    return dict((await conn.execute(select(payment_method).where(
        payment_method.c.id == intent["payment_method_id"]))).mappings().one())


async def _record_attempt(uow, intent: Row, attempt: ChargeAttempt) -> Row:
    """Write the gateway's answer as a payment row; an approval or decline settles the intent."""
    key = intent["idempotency_key"]
    payment_id = await uow.next_id(IdKind.PAYMENT)
    row = (await uow.conn.execute(insert(payment_t).values(
        id=payment_id, customer_id=intent["customer_id"], payment_method_id=intent["payment_method_id"],
        amount_minor=intent["amount_minor"], currency=intent["currency"], status=attempt.status,
        decline_code=attempt.decline_code, idempotency_key=key, purpose=intent["purpose"],
        reference=intent["reference"], gateway_reference=attempt.reference, created_at=clock.now(),
    ).returning(payment_t))).mappings().one()
    if attempt.status == PaymentStatus.ERROR:
        change = {"gateway_errors": charge_intent.c.gateway_errors + 1}
    else:
        change = {"state": CHARGE_INTENT_MACHINE.next(ChargeIntentState(intent["state"]), "settle").value}
    await uow.conn.execute(update(charge_intent).where(charge_intent.c.idempotency_key == key)
                           .values(**change, updated_at=clock.now()))
    uow.record(f"payment.{attempt.status}", "payment", payment_id, {
        "customer_id": intent["customer_id"], "payment_method_id": intent["payment_method_id"],
        "amount_minor": intent["amount_minor"], "currency": intent["currency"], "purpose": intent["purpose"],
        "reference": intent["reference"], "idempotency_key": key, "decline_code": attempt.decline_code})
    return dict(row)


@activity.defn(name="payment_abandon_charge")
async def abandon_charge(customer_id: str, amount_minor: int, currency: str, purpose: str, reference: str | None,
                         idempotency_key: str, refund_key: str, reason: str) -> AbandonedCharge:
    """Give up on a charge: nothing taken stays so for good; an approval (recorded or not) is refunded."""
    with activity_edge():
        return await _abandon(customer_id, amount_minor, currency, purpose, reference, idempotency_key,
                              refund_key, reason)


async def _abandon(customer_id: str, amount_minor: int, currency: str, purpose: str, reference: str | None,
                   key: str, refund_key: str, reason: str) -> AbandonedCharge:
    async with unit_of_work() as uow:
        # A key nobody opened is closed here, so an attempt still on its way cannot open it after us.
        if await _insert_intent(uow.conn, key, customer_id, None, amount_minor, currency, purpose, reference,
                                ChargeIntentState.ABANDONED):
            uow.record("payment.charge_intent.abandoned", "charge_intent", key,
                       {"customer_id": customer_id, "reason": reason, "gateway": "never asked"})
        intent = await _locked_intent(uow.conn, key)
        outcome = intent["state"]
        if intent["state"] == ChargeIntentState.OPEN:
            seen = get_gateway().lookup(key)  # the gateway's record: the lock keeps any attempt out meanwhile
            if seen is None:
                outcome = CHARGE_INTENT_MACHINE.next(ChargeIntentState.OPEN, "abandon").value
                await uow.conn.execute(update(charge_intent).where(charge_intent.c.idempotency_key == key)
                                       .values(state=outcome, updated_at=clock.now()))
                uow.record("payment.charge_intent.abandoned", "charge_intent", key,
                           {"customer_id": customer_id, "reason": reason, "gateway": "no charge"})
            else:
                await _record_attempt(uow, intent, seen)
        elif not uow.events:
            uow.record("payment.charge_intent.checked", "charge_intent", key, {"state": outcome, "reason": reason})
    if outcome == ChargeIntentState.ABANDONED:
        return AbandonedCharge(idempotency_key=key, outcome="not_charged")
    async with get_engine().connect() as conn:
        done = await payment_by_key(conn, key)
    assert done is not None  # a settled intent has its approval or decline recorded
    if done["status"] != PaymentStatus.APPROVED:
        return AbandonedCharge(idempotency_key=key, outcome="declined", payment_id=done["id"])
    try:
        refunded = await _refund(done["id"], None, refund_key, reason, None)
    except _NothingLeft:
        return AbandonedCharge(idempotency_key=key, outcome="already_refunded", payment_id=done["id"])
    return AbandonedCharge(idempotency_key=key, outcome="refunded", payment_id=done["id"], refund=refunded)


async def load_payment(conn: AsyncConnection, payment_id: str, for_update: bool = False) -> Row:
    """Load a payment row or raise NotFound."""
    query = select(payment_t).where(payment_t.c.id == payment_id)
    row = (await conn.execute(query.with_for_update() if for_update else query)).mappings().one_or_none()
    if row is None:
        raise NotFound("payment", payment_id)
    return dict(row)


async def _refund_by_key(conn: AsyncConnection, key: str) -> Row | None:
    row = (await conn.execute(select(refund_t).where(refund_t.c.idempotency_key == key))).mappings().one_or_none()
    return dict(row) if row else None


def _refund_replay(row: Row, payment_id: str, amount_minor: int) -> RefundResult:
    if (row["payment_id"], row["amount_minor"]) != (payment_id, amount_minor):
        raise Conflict("refund.idempotency_key_reused",
                       f"idempotency key {row['idempotency_key']} was used for a different refund ({row['id']})",
                       {"refund_id": row["id"], "idempotency_key": row["idempotency_key"]})
    return _refund_result(row)


@activity.defn(name="payment_refund")
async def refund(payment_id: str, amount_minor: int, idempotency_key: str,
                         reason: str | None = None) -> RefundResult:
    """Refund part or all of an approved payment once per idempotency key."""
    with activity_edge():
        return await _refund(payment_id, amount_minor, idempotency_key, reason, None)


class _NothingLeft(Exception):
    """Roll back: the payment was refunded in full already (e.g. by a CSR)."""


async def _refund(payment_id: str, amount_minor: int | None, key: str, reason: str | None,
                  currency: str | None) -> RefundResult:
    """Refund `amount_minor` of a payment, or (None) what is left of it when the refund is made."""
    async with get_engine().connect() as conn:
        if (done := await _refund_by_key(conn, key)) is not None:
            return _refund_replay(done, payment_id, done["amount_minor"] if amount_minor is None else amount_minor)
    try:
        async with unit_of_work() as uow:
            # The payment row lock serialises refunds of one payment, so the cumulative check
            # below (and the rest computed here) cannot be raced by a concurrent refund.
            paid = await load_payment(uow.conn, payment_id, for_update=True)
            if await _refund_by_key(uow.conn, key) is not None:
                raise _AlreadyRecorded
            already = await refunded_minor(uow.conn, payment_id)
            if amount_minor is None:
                amount_minor = paid["amount_minor"] - already
                if amount_minor <= 0:
                    raise _NothingLeft
            raise_if(check_refund(payment_id=payment_id, payment_status=paid["status"],
                                  payment_currency=paid["currency"], paid_minor=paid["amount_minor"],
                                  refunded_minor=already,
                                  amount_minor=amount_minor, currency=currency or paid["currency"]))
            try:
                attempt = get_gateway().refund(paid["gateway_reference"] or "", amount_minor, key)
            except IdempotencyMismatch as exc:
                raise Conflict("refund.idempotency_key_reused", str(exc), {"idempotency_key": key}) from exc
            refund_id = await uow.next_id(IdKind.REFUND)
            try:
                row = (await uow.conn.execute(insert(refund_t).values(
                    id=refund_id, payment_id=payment_id, customer_id=paid["customer_id"],
                    amount_minor=amount_minor, currency=paid["currency"], status=attempt.status,
                    decline_code=attempt.decline_code, idempotency_key=key, reason=reason,
                    gateway_reference=attempt.reference, created_at=clock.now(),
                ).returning(refund_t))).mappings().one()
            except IntegrityError as exc:  # the same key, raced in under another payment's lock
                raise _AlreadyRecorded from exc
            uow.record(f"refund.{attempt.status}", "refund", refund_id, {
                "payment_id": payment_id, "customer_id": paid["customer_id"], "amount_minor": amount_minor,
                "currency": paid["currency"], "reason": reason, "idempotency_key": key,
                "decline_code": attempt.decline_code})
    except _AlreadyRecorded:
        async with get_engine().connect() as conn:
            done = await _refund_by_key(conn, key)
        assert done is not None
        return _refund_replay(done, payment_id, done["amount_minor"] if amount_minor is None else amount_minor)
    return _refund_result(dict(row))


async def refund_in_currency(payment_id: str, amount_minor: int, currency: str, idempotency_key: str,
                             reason: str | None = None) -> RefundResult:
    """Refund as the API asks for it: the requested currency must match the payment's."""
    return await _refund(payment_id, amount_minor, idempotency_key, reason, currency)
