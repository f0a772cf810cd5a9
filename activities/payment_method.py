"""Card-on-file writes: add a tokenised card, change the default, remove a card.

Every write on a customer's cards first takes a transaction-scoped advisory lock on that
customer, so concurrent adds cannot exceed the limit and a removal cannot race the promotion
of a new default. The card number never reaches this module: the API tokenises at the edge.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from activities.uow import unit_of_work
from core import clock
from core.db import get_engine
from core.errors import NotFound
from domain.ids import IdKind
from domain.payment import PAYMENT_METHOD_MACHINE, PaymentMethodState, payment_method
from domain.subscription import LIVE_STATES
from policies.base import raise_if
from policies.payment import check_add_card, check_remove_card, check_unset_preferred
from simulators.payment_gateway import CardToken

Row = dict[str, Any]
ACTIVE = PaymentMethodState.ACTIVE.value


async def lock_customer_cards(conn: AsyncConnection, customer_id: str) -> None:
    """Serialise card writes of one customer until the transaction ends."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                       {"k": f"payment_method:{customer_id}"})


async def customer_status(conn: AsyncConnection, customer_id: str) -> str | None:
    """The CRM status of a customer, or None when there is no such customer."""
    result = await conn.execute(text("SELECT status FROM crm.customer WHERE id = :id"), {"id": customer_id})
    return result.scalar_one_or_none()


async def active_count(conn: AsyncConnection, customer_id: str, excluding: str | None = None) -> int:
    """How many active cards the customer has (optionally not counting one)."""
    query = select(func.count()).select_from(payment_method).where(
        payment_method.c.customer_id == customer_id, payment_method.c.state == ACTIVE)
    if excluding:
        query = query.where(payment_method.c.id != excluding)
    return (await conn.execute(query)).scalar_one()


async def live_line_count(conn: AsyncConnection, customer_id: str) -> int:
    """How many pending/active/blocked lines the customer has (read across schemas, no FK)."""
    result = await conn.execute(
        text("SELECT count(*) FROM subscription.subscription WHERE customer_id = :c AND state = ANY(:s)"),
        {"c": customer_id, "s": [s.value for s in LIVE_STATES]})
    return result.scalar_one()


async def load_method(conn: AsyncConnection, method_id: str, for_update: bool = False) -> Row:
    """Load a card row or raise NotFound."""
    query = select(payment_method).where(payment_method.c.id == method_id)
    row = (await conn.execute(query.with_for_update() if for_update else query)).mappings().one_or_none()
    if row is None:
        raise NotFound("payment_method", method_id)
    return dict(row)


async def add_payment_method(customer_id: str, card: CardToken, name: str | None = None,
                             holder_name: str | None = None, make_default: bool = False) -> Row:
    """Put a tokenised card on file; the first active card (or one asked to be) becomes the default."""
    async with unit_of_work() as uow:
        await lock_customer_cards(uow.conn, customer_id)
        count = await active_count(uow.conn, customer_id)
        raise_if(check_add_card(customer_id=customer_id, customer_status=await customer_status(uow.conn, customer_id),
                                card_number=None, exp_month=card.exp_month, exp_year=card.exp_year,
                                active_count=count, now=clock.now()))
        has_default = (await uow.conn.execute(select(func.count()).select_from(payment_method).where(
            payment_method.c.customer_id == customer_id, payment_method.c.state == ACTIVE,
            payment_method.c.is_default))).scalar_one() > 0
        if has_default and make_default:
            await _clear_default(uow.conn, customer_id)
        method_id = await uow.next_id(IdKind.PAYMENT_METHOD)
        now = clock.now()
        row = (await uow.conn.execute(insert(payment_method).values(
            id=method_id, customer_id=customer_id, name=name or f"{card.brand} ending {card.last4}",
            brand=card.brand, last4=card.last4, exp_month=card.exp_month, exp_year=card.exp_year,
            holder_name=holder_name, gateway_token=card.token, state=ACTIVE,
            is_default=make_default or not has_default,
            created_at=now, updated_at=now,
        ).returning(payment_method))).mappings().one()
        uow.record("payment_method.added", "payment_method", method_id, {
            "customer_id": customer_id, "brand": card.brand, "last4": card.last4,
            "expiry": f"{card.exp_month:02d}/{card.exp_year}", "is_default": make_default or not has_default})
    return dict(row)


async def update_payment_method(method_id: str, name: str | None = None, is_preferred: bool | None = None) -> Row:
    """Rename a card or make it the customer's default."""
    async with get_engine().connect() as conn:
        current = await load_method(conn, method_id)
    if _changes_nothing(current, name, is_preferred):
        return current  # a merge-patch that changes nothing records nothing
    async with unit_of_work() as uow:
        await lock_customer_cards(uow.conn, current["customer_id"])
        row = await load_method(uow.conn, method_id, for_update=True)
        PAYMENT_METHOD_MACHINE.next(PaymentMethodState(row["state"]), "update")
        changes: dict[str, Any] = {}
        if is_preferred is False:
            raise_if(check_unset_preferred(method_id=method_id, is_default=row["is_default"]))
        if is_preferred and not row["is_default"]:
            await _clear_default(uow.conn, row["customer_id"])
            changes["is_default"] = True
        if name is not None and name != row["name"]:
            changes["name"] = name
        if changes:
            row = dict((await uow.conn.execute(update(payment_method).where(payment_method.c.id == method_id)
                                               .values(**changes, updated_at=clock.now())
                                               .returning(payment_method))).mappings().one())
        uow.record("payment_method.updated", "payment_method", method_id,
                   {"customer_id": row["customer_id"], "changes": changes})
    return row


async def remove_payment_method(method_id: str) -> Row:
    """Remove a card; if it was the default, the most recently added other card takes over."""
    async with get_engine().connect() as conn:
        customer_id = (await load_method(conn, method_id))["customer_id"]
    async with unit_of_work() as uow:
        await lock_customer_cards(uow.conn, customer_id)
        row = await load_method(uow.conn, method_id, for_update=True)
        new_state = PAYMENT_METHOD_MACHINE.next(PaymentMethodState(row["state"]), "remove")
        raise_if(check_remove_card(method_id=method_id, state=row["state"],
                                   other_active=await active_count(uow.conn, customer_id, excluding=method_id),
                                   live_lines=await live_line_count(uow.conn, customer_id)))
        was_default, now = row["is_default"], clock.now()
        row = dict((await uow.conn.execute(update(payment_method).where(payment_method.c.id == method_id).values(
            state=new_state.value, is_default=False, removed_at=now, updated_at=now,
        ).returning(payment_method))).mappings().one())
        promoted = await _promote_default(uow.conn, customer_id) if was_default else None
        uow.record("payment_method.removed", "payment_method", method_id,
                   {"customer_id": customer_id, "last4": row["last4"], "was_default": was_default,
                    "new_default": promoted})
        if promoted:
            uow.record("payment_method.default_changed", "payment_method", promoted,
                       {"customer_id": customer_id, "replaces": method_id})
    return row


def _changes_nothing(row: Row, name: str | None, is_preferred: bool | None) -> bool:
    same_name = name is None or name == row["name"]
    same_default = is_preferred is None or (is_preferred and row["is_default"]) or (
        is_preferred is False and not row["is_default"])
    return same_name and bool(same_default) and row["state"] == ACTIVE


async def _clear_default(conn: AsyncConnection, customer_id: str) -> None:
    # Clear the old default before setting a new one: the partial unique index allows one at a time.
    await conn.execute(update(payment_method).where(payment_method.c.customer_id == customer_id,
                                                    payment_method.c.is_default)
                       .values(is_default=False, updated_at=clock.now()))


async def _promote_default(conn: AsyncConnection, customer_id: str) -> str | None:
    """Make the most recently added active card the default; return its id (None if none left)."""
    candidate = (await conn.execute(
        select(payment_method.c.id).where(payment_method.c.customer_id == customer_id,
                                          payment_method.c.state == ACTIVE)
        .order_by(payment_method.c.created_at.desc(), payment_method.c.id.desc()).limit(1).with_for_update()
    )).scalar_one_or_none()
    if candidate:
        await conn.execute(update(payment_method).where(payment_method.c.id == candidate)
                           .values(is_default=True, updated_at=clock.now()))
    return candidate
