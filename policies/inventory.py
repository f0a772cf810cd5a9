"""Inventory write guards: number availability, pool exhaustion, transitions, ranges, assignment.

Pure functions over loaded values. The activities call them again against locked rows, so a
check made in the API (fast 422) is never the last word.
"""

from __future__ import annotations

import re

from core.errors import Violation
from domain.inventory import (
    ESIM_MACHINE,
    ESIM_OPERATOR_EVENTS,
    MAX_RANGE_SIZE,
    MSISDN_MACHINE,
    MSISDN_OPERATOR_EVENTS,
    EsimState,
    MsisdnState,
    Pool,
)
from domain.ordering import OrderState
from domain.states import StateMachine
from policies.base import violation

NUMBER = re.compile(r"[0-9]{8,15}")  # the `number_digits` check of inventory.msisdn


def check_number_format(number: str) -> list[Violation]:
    """A phone number is 8 to 15 ASCII digits."""
    if NUMBER.fullmatch(number):
        return []
    return [violation("inventory.msisdn.number_invalid", f"{number!r} is not a number of 8 to 15 digits",
                      msisdn=number)]


def check_msisdn_available(number: str, state: str | None) -> list[Violation]:
    """A chosen number must be in the pool and available (`order.create.msisdn_available`)."""
    if state == MsisdnState.AVAILABLE:
        return []
    why = "is not in the pool" if state is None else f"is {state}"
    return [violation("order.create.msisdn_available", f"number {number} {why}; choose an available number",
                      msisdn=number, state=state)]


def check_pool_not_empty(pool: Pool, found: str | None) -> list[Violation]:
    """Refuse a reservation when the pool has no available unit left."""
    if found is not None:
        return []
    what = "phone numbers" if pool is Pool.MSISDN else "eSIM profiles"
    return [violation(f"inventory.{pool.value}.pool_exhausted",
                      f"no {what} are available; replenish the pool", pool=pool.value)]


def check_msisdn_transition(number: str, current: str, event: str, operator: bool = False) -> list[Violation]:
    """A number moves only along its state machine, never out of `ported_out`; operators only do their events."""
    if current == MsisdnState.PORTED_OUT:
        return [violation("inventory.msisdn.ported_out_is_terminal",
                          f"number {number} was ported out and belongs to another operator now",
                          msisdn=number, event=event)]
    return _transition(MSISDN_MACHINE, MsisdnState(current), event, operator and event not in MSISDN_OPERATOR_EVENTS,
                       msisdn=number)


def check_esim_transition(iccid: str, current: str, event: str, operator: bool = False) -> list[Violation]:
    """A profile moves only along its state machine; operators only suspend, resume or recycle."""
    return _transition(ESIM_MACHINE, EsimState(current), event, operator and event not in ESIM_OPERATOR_EVENTS,
                       iccid=iccid)


def _transition(machine: StateMachine, current: str, event: str, not_for_operators: bool,
                **context: object) -> list[Violation]:
    if machine.allows(current, event) and not not_for_operators:
        return []
    how = "only the order flow may" if not_for_operators and machine.allows(current, event) else "cannot"
    return [violation(f"{machine.aggregate}.transition.invalid", f"{machine.aggregate} {how} '{event}' from "
                      f"state '{current}'", **context, **{"from": str(current), "event": event,
                                                          "allowed": machine.events_from(current)})]


def check_not_on_live_line(pool: Pool, ident: str, subscription_id: str | None) -> list[Violation]:
    """A unit a live line runs on moves with the line only (block or terminate the subscription instead)."""
    if subscription_id is None:
        return []
    what = "number" if pool is Pool.MSISDN else "eSIM profile"
    return [violation(f"inventory.{pool.value}.on_live_line",
                      f"{what} {ident} serves live line {subscription_id}; it moves with the line (block or"
                      " terminate the subscription instead)", resource=ident, subscription_id=subscription_id)]


def check_release_by_operator(pool: Pool, ident: str, order_id: str | None, order_state: str | None) -> list[Violation]:
    """An operator releases a reservation only once its order is over (failed or cancelled, or long gone)."""
    if order_id is None or order_state in (None, OrderState.FAILED, OrderState.CANCELLED):
        return []
    what = "number" if pool is Pool.MSISDN else "eSIM profile"
    return [violation(f"inventory.{pool.value}.held_by_live_order",
                      f"{what} {ident} is held by order {order_id}, which is {order_state}; the order releases it"
                      " if it fails or is cancelled", resource=ident, order_id=order_id, order_state=order_state)]


def event_for_target(machine: StateMachine, current: str, target: str) -> str | None:
    """The event that moves `current` to `target`, if the machine has one."""
    return next((event for (state, event), after in machine.table.items() if state == current and after == target),
                None)


def check_range(first: str, last: str) -> list[Violation]:
    """A replenishment range: digits of one valid length, ordered, at most `MAX_RANGE_SIZE` numbers."""
    if not (NUMBER.fullmatch(first) and NUMBER.fullmatch(last)):
        return [violation("inventory.msisdn.range_invalid", "range bounds must be numbers of 8 to 15 digits",
                          first=first, last=last)]
    if len(first) != len(last) or int(first) > int(last):
        return [violation("inventory.msisdn.range_invalid",
                          "the first number must not exceed the last, and both must have the same length",
                          first=first, last=last)]
    size = int(last) - int(first) + 1
    if size > MAX_RANGE_SIZE:
        return [violation("inventory.msisdn.range_too_large",
                          f"a range adds at most {MAX_RANGE_SIZE:,} numbers; this one has {size:,}",
                          first=first, last=last, size=size, max_size=MAX_RANGE_SIZE)]
    return []


def check_order_holds(pool: Pool, order_id: str, ident: str | None) -> list[Violation]:
    """The order reserved a unit of this pool (assignment and download act on it)."""
    if ident is not None:
        return []
    what = "number" if pool is Pool.MSISDN else "eSIM profile"
    return [violation(f"inventory.{pool.value}.not_reserved_for_order", f"order {order_id} holds no reserved {what}",
                      order_id=order_id)]


def check_assign_msisdn(number: str, state: str, assigned_to: str | None, subscription_id: str) -> list[Violation]:
    """An order's number goes to one subscription only (a retry for the same one is fine)."""
    if state == MsisdnState.ASSIGNED and assigned_to != subscription_id:
        return [violation("inventory.msisdn.assigned_to_another_subscription",
                          f"number {number} is assigned to {assigned_to}", msisdn=number,
                          assigned_to=assigned_to, subscription_id=subscription_id)]
    return []


def check_assign_esim(iccid: str, state: str, assigned_msisdn: str | None, number: str) -> list[Violation]:
    """An order's profile serves one number only (a retry for the same one is fine)."""
    if state in (EsimState.ACTIVATED, EsimState.SUSPENDED) and assigned_msisdn != number:
        return [violation("inventory.esim.assigned_to_another_number",
                          f"profile {iccid} is active for {assigned_msisdn}", iccid=iccid,
                          assigned_msisdn=assigned_msisdn, msisdn=number)]
    return []
