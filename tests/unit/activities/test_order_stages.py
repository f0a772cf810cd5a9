"""The order saga's stage activities on a real PostgreSQL: each stage commits all of its writes at
once, and a retry of a stage that committed returns the same result and writes nothing.

The order and its payment are inserted with plain SQL (the API and the gateway own those flows).
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from activities.order_stages import activate_order, reserve_for_order, start_provisioning
from activities.ordering import end_order
from core.errors import InvalidTransition, PolicyViolation
from domain.ordering_flow import ActivateOrder, EndOrder, ReserveForOrder, StartProvisioning

ORDER, CUSTOMER, PAYMENT = "ORD-000001", "CUST-000001", "PAY-000001"


async def _rows(db, sql: str, **params: object) -> list[dict]:
    async with db.connect() as conn:
        return [dict(r._mapping) for r in (await conn.execute(text(sql), params)).all()]


async def _order(db, order_id: str = ORDER, requested: str | None = None, paid: bool = True) -> None:
    async with db.begin() as conn:
        await conn.execute(text(
            "INSERT INTO ordering.product_order (id, customer_id, offering_id, offering_price_id, price_minor,"
            " currency, requested_msisdn, channel, order_date) VALUES (:id, :c, 'PLAN_M', 'POP_PLAN_M_1', 2500,"
            " 'SGD', :r, 'cli', now())"), {"id": order_id, "c": CUSTOMER, "r": requested})
        if not paid:
            return
        await conn.execute(text(
            "INSERT INTO payment.payment (id, customer_id, payment_method_id, amount_minor, currency, status,"
            " idempotency_key, purpose, reference) VALUES (:p, :c, 'PM-000001', 2500, 'SGD', 'approved', :k,"
            " 'activation', :o)"), {"p": PAYMENT, "c": CUSTOMER, "k": f"{order_id}:charge", "o": order_id})


async def _footprint(db) -> dict:
    """Everything the stages write, to prove a retry wrote nothing."""
    (row,) = await _rows(db, "SELECT (SELECT count(*) FROM audit.domain_event) AS events,"
                             " (SELECT count(*) FROM service_inventory.service_order) AS service_orders,"
                             " (SELECT count(*) FROM service_inventory.service) AS services,"
                             " (SELECT count(*) FROM provisioning.task) AS tasks,"
                             " (SELECT count(*) FROM subscription.subscription) AS lines,"
                             " (SELECT count(*) FROM billing.customer_bill) AS bills,"
                             " (SELECT count(*) FROM inventory.msisdn WHERE reserved_for IS NOT NULL) AS numbers,"
                             " (SELECT count(*) FROM inventory.esim_profile WHERE reserved_for IS NOT NULL)"
                             "   AS profiles")
    return row


def _activation(held) -> ActivateOrder:
    return ActivateOrder(order_id=ORDER, customer_id=CUSTOMER, offering_id="PLAN_M", msisdn=held.msisdn,
                         iccid=held.iccid, payment_id=PAYMENT, price_minor=2500, currency="SGD")


async def test_three_stages_take_an_order_to_an_active_line_and_retries_write_nothing(seeded_db):
    await _order(seeded_db)

    held = await reserve_for_order(ReserveForOrder(order_id=ORDER))
    (order,) = await _rows(seeded_db, "SELECT state, step, msisdn, iccid FROM ordering.product_order")
    assert order == {"state": "in_progress", "step": "RESERVED", "msisdn": held.msisdn, "iccid": held.iccid}
    before = await _footprint(seeded_db)
    assert await reserve_for_order(ReserveForOrder(order_id=ORDER)) == held
    assert await _footprint(seeded_db) == before

    start = StartProvisioning(order_id=ORDER, customer_id=CUSTOMER, offering_id="PLAN_M", msisdn=held.msisdn,
                              iccid=held.iccid, payment_id=PAYMENT)
    plan = await start_provisioning(start)
    assert [t.task_type for t in plan.tasks] == ["HLR_PROVISION", "PCRF_POLICY_PUSH", "OCS_BALANCE_INIT",
                                                 "ESIM_PROFILE_PREPARE"]
    (order,) = await _rows(seeded_db, "SELECT step, payment_id, service_order_id, provisioning_started_at"
                                      " FROM ordering.product_order")
    assert (order["step"], order["payment_id"], order["service_order_id"]) == (
        "PROVISIONING", PAYMENT, plan.service_order_id)
    assert order["provisioning_started_at"] is not None
    steps = [r["event_type"] for r in await _rows(
        seeded_db, "SELECT event_type FROM audit.domain_event WHERE event_type LIKE 'order.step.%' ORDER BY id")]
    assert steps == ["order.step.reserved", "order.step.paid", "order.step.service_ordered",
                     "order.step.provisioning"]
    before = await _footprint(seeded_db)
    assert await start_provisioning(start) == plan
    assert await _footprint(seeded_db) == before

    async with seeded_db.begin() as conn:  # the network did its part
        await conn.execute(text("UPDATE provisioning.task SET state = 'completed', attempts = 1"))
    line = await activate_order(_activation(held))
    assert (line.state, line.customer_id, line.offering_id, line.period_number) == ("active", CUSTOMER, "PLAN_M", 1)
    assert {b.allowance_type: b.total for b in line.balances} == {"data": 30 * 1024, "voice": -1, "sms": -1,
                                                                  "data_roaming": 500}
    resources = await _rows(seeded_db, "SELECT (SELECT state FROM inventory.msisdn WHERE number = :n) AS number,"
                                       " (SELECT state FROM inventory.esim_profile WHERE iccid = :i) AS profile",
                            n=held.msisdn, i=held.iccid)
    assert resources == [{"number": "assigned", "profile": "activated"}]
    (so,) = await _rows(seeded_db, "SELECT state FROM service_inventory.service_order")
    assert so["state"] == "completed"
    (bill,) = await _rows(seeded_db, "SELECT kind, amount_minor, payment_id, subscription_id FROM"
                                     " billing.customer_bill")
    assert bill == {"kind": "activation", "amount_minor": 2500, "payment_id": PAYMENT,
                    "subscription_id": line.subscription_id}
    (order,) = await _rows(seeded_db, "SELECT step FROM ordering.product_order")
    assert order["step"] == "COMPLETED"
    before = await _footprint(seeded_db)
    assert await activate_order(_activation(held)) == line
    assert await _footprint(seeded_db) == before


async def test_a_refused_reservation_writes_nothing(seeded_db):
    await _order(seeded_db, requested="99999999")  # not a number of the pool
    before = await _footprint(seeded_db)
    with pytest.raises(PolicyViolation):
        await reserve_for_order(ReserveForOrder(order_id=ORDER, requested_msisdn="99999999"))
    assert await _footprint(seeded_db) == before
    (order,) = await _rows(seeded_db, "SELECT step FROM ordering.product_order")
    assert order["step"] == "ACKNOWLEDGED"


async def test_activation_before_the_network_finished_is_refused_and_writes_nothing(seeded_db):
    await _order(seeded_db)
    held = await reserve_for_order(ReserveForOrder(order_id=ORDER))
    await start_provisioning(StartProvisioning(order_id=ORDER, customer_id=CUSTOMER, offering_id="PLAN_M",
                                               msisdn=held.msisdn, iccid=held.iccid, payment_id=PAYMENT))
    before = await _footprint(seeded_db)
    with pytest.raises(PolicyViolation):
        await activate_order(_activation(held))
    assert await _footprint(seeded_db) == before


async def test_activation_that_completes_closes_the_order_in_its_transaction_and_a_retry_writes_nothing(seeded_db):
    await _order(seeded_db)
    held = await reserve_for_order(ReserveForOrder(order_id=ORDER))
    await start_provisioning(StartProvisioning(order_id=ORDER, customer_id=CUSTOMER, offering_id="PLAN_M",
                                               msisdn=held.msisdn, iccid=held.iccid, payment_id=PAYMENT))
    async with seeded_db.begin() as conn:
        await conn.execute(text("UPDATE provisioning.task SET state = 'completed', attempts = 1"))

    line = await activate_order(_activation(held))
    ended = "SELECT o.state, o.step, o.subscription_id, o.completed_at, s.activated_at, s.state AS line_state" \
            " FROM ordering.product_order o JOIN subscription.subscription s ON s.order_id = o.id"
    (order,) = await _rows(seeded_db, ended)
    assert (order["state"], order["step"], order["subscription_id"], order["line_state"]) == (
        "completed", "COMPLETED", line.subscription_id, "active")
    assert order["completed_at"] >= order["activated_at"]
    events = [r["event_type"] for r in await _rows(
        seeded_db, "SELECT event_type FROM audit.domain_event WHERE aggregate_id = :o AND event_type LIKE 'order.%'"
                   " ORDER BY id", o=ORDER)]
    assert events[-2:] == ["order.step.activating", "order.completed"]

    before = await _footprint(seeded_db)
    assert await activate_order(_activation(held)) == line
    assert await _footprint(seeded_db) == before
    # An `order_end` arriving later (a retried end) leaves the order as it is.
    await end_order(EndOrder(order_id=ORDER, state="completed", subscription_id=line.subscription_id))
    assert await _rows(seeded_db, ended) == [order]


async def test_concurrent_reservations_take_distinct_units_and_one_wins_a_chosen_number(seeded_db):
    # The stage takes each unit with one UPDATE … WHERE key = (SELECT … FOR UPDATE SKIP LOCKED).
    orders = [f"ORD-{n:06d}" for n in range(1, 13)]
    for order_id in orders:
        await _order(seeded_db, order_id, paid=False)
    held = await asyncio.gather(*(reserve_for_order(ReserveForOrder(order_id=o)) for o in orders))
    assert len({h.msisdn for h in held}) == len({h.iccid for h in held}) == len(orders)
    rows = await _rows(seeded_db, "SELECT reserved_for, number FROM inventory.msisdn WHERE state = 'reserved'")
    assert {r["reserved_for"]: r["number"] for r in rows} == {o: h.msisdn for o, h in zip(orders, held, strict=True)}

    (free,) = await _rows(seeded_db, "SELECT number FROM inventory.msisdn WHERE state = 'available'"
                                     " ORDER BY number DESC LIMIT 1")
    rivals = ["ORD-000101", "ORD-000102"]
    for order_id in rivals:
        await _order(seeded_db, order_id, requested=free["number"], paid=False)
    results = await asyncio.gather(*(reserve_for_order(ReserveForOrder(order_id=o, requested_msisdn=free["number"]))
                                     for o in rivals), return_exceptions=True)
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, PolicyViolation)]
    assert [w.msisdn for w in won] == [free["number"]] and len(lost) == 1
    assert lost[0].code == "order.create.msisdn_available"


async def test_an_order_ended_before_its_workflow_ran_takes_nothing(seeded_db):
    # The API failed the order after its start looked lost; the start had landed, and the workflow runs now.
    await _order(seeded_db, paid=False)
    await end_order(EndOrder(order_id=ORDER, state="failed", only_from="acknowledged", reason="never started"))
    before = await _footprint(seeded_db)
    with pytest.raises(InvalidTransition):
        await reserve_for_order(ReserveForOrder(order_id=ORDER))
    assert await _footprint(seeded_db) == before  # no number, no profile, no event
    (order,) = await _rows(seeded_db, "SELECT state, msisdn, iccid FROM ordering.product_order")
    assert (order["state"], order["msisdn"], order["iccid"]) == ("failed", None, None)


async def test_the_api_fails_an_order_only_while_it_is_still_acknowledged(seeded_db):
    await _order(seeded_db)
    held = await reserve_for_order(ReserveForOrder(order_id=ORDER))  # a late start got there first
    await end_order(EndOrder(order_id=ORDER, state="failed", only_from="acknowledged", reason="never started"))
    (order,) = await _rows(seeded_db, "SELECT state, step, msisdn FROM ordering.product_order")
    assert (order["state"], order["step"], order["msisdn"]) == ("in_progress", "RESERVED", held.msisdn)
    (skipped,) = await _rows(seeded_db, "SELECT count(*) AS n FROM audit.domain_event "
                                        "WHERE event_type = 'order.end.skipped'")
    assert skipped["n"] == 1
