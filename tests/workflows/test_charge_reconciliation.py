"""An approved charge is never left without its grant or its refund (issue #13, item 1).

The fault is injected in PostgreSQL itself: a trigger refuses to record the approval of any key that
matches a pattern the test holds, so the gateway has taken the money and the BSS cannot write it
down. The charge step retries until its outage window ends (time skipping runs the window), then
whoever gave up settles the key from the gateway's own record once recording works again: the
order refunds it, the VAS purchase refunds it, and a charge that recovers inside the window is
granted. Per key, exactly one of {granted, refunded}; net money equals grants.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from simulators.payment_gateway import get_gateway
from tests.support.factories import ready_customer
from tests.support.polling import until
from tests.workflows.history_manifest import HISTORIES, record
from tests.workflows.order_helpers import money_for, place_order, resources_of, rows, wait_order, wait_step
from tests.workflows.subscription_helpers import (
    GB,
    balances,
    charges,
    fast_forward,
    open_line,
    start_line,
    subscription_queue,  # noqa: F401 - the `sub_queue` fixture
)
from workers.charge_reconciler import ChargeReconciler
from workflows.order import order_workflow_id

OPS = "/bss-api/v1/subscription"
PAYMENTS = "/tmf-api/paymentManagement/v4/payment"
SUBSCRIPTION_HISTORIES = HISTORIES / "subscription"

_FAULT = [
    "CREATE TABLE public.unrecordable (pattern text PRIMARY KEY)",
    """CREATE FUNCTION public.refuse_recording() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.status = 'approved' AND EXISTS (
             SELECT 1 FROM public.unrecordable u WHERE NEW.idempotency_key LIKE u.pattern) THEN
           RAISE EXCEPTION 'injected fault: the approval of % cannot be recorded', NEW.idempotency_key;
         END IF;
         RETURN NEW;
       END $$""",
    ("CREATE TRIGGER refuse_recording BEFORE INSERT ON payment.payment FOR EACH ROW "
     "EXECUTE FUNCTION public.refuse_recording()"),
]


async def _refuse_recording(db: AsyncEngine, pattern: str) -> None:
    """From now on, an approval under a key LIKE `pattern` cannot be written to payment.payment."""
    async with db.begin() as conn:
        if not (await conn.exec_driver_sql("SELECT to_regclass('public.unrecordable')")).scalar():
            for statement in _FAULT:
                await conn.exec_driver_sql(statement)
        await conn.exec_driver_sql("INSERT INTO public.unrecordable VALUES ($1)", (pattern,))


async def _allow_recording(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        await conn.exec_driver_sql("DELETE FROM public.unrecordable")


async def _approved_at_gateway(key: str) -> bool:
    seen = get_gateway().lookup(key)
    return seen is not None and seen.status == "approved"


async def _intent(db: AsyncEngine, key: str) -> dict:
    (row,) = await rows(db, "SELECT state, gateway_errors FROM payment.charge_intent WHERE idempotency_key = :k",
                        k=key)
    return row


async def test_an_order_whose_approval_cannot_be_recorded_is_refunded_from_the_gateways_record(
        seeded_api, seeded_db, temporal_env):
    await _refuse_recording(seeded_db, "%:charge")
    customer = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer)
    key = f"{order['id']}:charge"
    await until(lambda: _approved_at_gateway(key), "the gateway never approved the charge", timeout=30)
    assert (await _intent(seeded_db, key))["state"] == "open"
    # The charge step gives up when its outage window ends; the refund undo then waits for recording to work.
    await wait_step(seeded_db, order["id"], "COMPENSATING", timeout=120)
    assert await money_for(seeded_db, order["id"]) == {"charged": 0, "charges": 0, "refunded": 0}
    await _allow_recording(seeded_db)

    done = await wait_order(seeded_api, order["id"], timeout=120)
    assert done["state"] == "failed", done
    assert await money_for(seeded_db, order["id"]) == {"charged": 2500, "charges": 1, "refunded": 2500}
    refunds = await rows(seeded_db, "SELECT r.idempotency_key, r.status FROM payment.refund r JOIN payment.payment p"
                                    " ON p.id = r.payment_id WHERE p.idempotency_key = :k", k=key)
    assert refunds == [{"idempotency_key": f"{order['id']}:refund", "status": "approved"}]
    assert (await _intent(seeded_db, key))["state"] == "settled"
    # Every retry asked the gateway under the one key (a replay of the one charge); the give-up read its record.
    assert get_gateway().lookup(key).status == "approved" and get_gateway().refund_requests[f"{order['id']}:refund"] == 1
    resources = await resources_of(seeded_db, order["id"])
    assert (resources["msisdn"], resources["esim"], resources["still_reserved"]) == ("available", "available", 0)
    assert await rows(seeded_db, "SELECT 1 FROM subscription.subscription WHERE customer_id = :c", c=customer) == []
    handle = temporal_env.client.get_workflow_handle(order_workflow_id(order["id"]))
    record(await handle.fetch_history(), "order_failed_charge_given_up")  # with BSS_RECORD_HISTORIES=1


async def test_a_vas_whose_approval_cannot_be_recorded_is_refunded_and_grants_nothing(
        seeded_api, seeded_db, temporal_env, sub_queue):
    sub = await open_line(seeded_api, "PLAN_S")
    handle = await start_line(temporal_env, sub_queue, sub)
    before = await balances(seeded_db, sub)
    await _refuse_recording(seeded_db, "%:vas:%")
    key = f"sub-{sub}:vas:lost-1"
    request = asyncio.ensure_future(seeded_api.post(
        f"{OPS}/{sub}/vas", json={"offeringId": "VAS_DATA_1GB", "requestId": "lost-1"}, timeout=120))
    await until(lambda: _approved_at_gateway(key), "the gateway never approved the VAS charge", timeout=30)
    await fast_forward(temporal_env, handle, minutes=11)  # past the charge's outage window
    # The charge step gave up; settling the key waits for recording to work again, and so does the answer.
    await until(lambda: _pending(handle, "payment_abandon_charge"), "the VAS charge was never given up", timeout=60)
    assert not request.done()
    assert await balances(seeded_db, sub) == before  # nothing granted
    assert await charges(seeded_db, sub) == []

    await _allow_recording(seeded_db)
    # The give-up's retries backed off to their cap (a minute) during the skipped window: skip to the next one.
    await fast_forward(temporal_env, handle, minutes=1)
    bought = await request
    assert bought.status_code == 422, bought.text
    assert bought.json()["code"] == "subscription.vas_purchase.payment_declined", bought.text
    assert bought.json()["message"].endswith("could not be completed (refunded); nothing stays charged")
    assert await _refunded(seeded_db, key)  # refunded before the customer was told "no"
    assert (await _intent(seeded_db, key))["state"] == "settled"
    assert await charges(seeded_db, sub) == [(key, 300)]
    assert await balances(seeded_db, sub) == before
    # A retry of the same request gets the same answer, never a grant against money that went back.
    again = await seeded_api.post(f"{OPS}/{sub}/vas", json={"offeringId": "VAS_DATA_1GB", "requestId": "lost-1"})
    assert again.status_code == 422 and again.json()["code"] == "subscription.vas_purchase.payment_declined"
    assert await balances(seeded_db, sub) == before
    assert await charges(seeded_db, sub) == [(key, 300)]
    record(await handle.fetch_history(), "subscription_vas_charge_given_up", SUBSCRIPTION_HISTORIES)


async def test_a_charge_recorded_inside_its_window_is_granted_once_and_never_refunded(
        seeded_api, seeded_db, temporal_env, sub_queue):
    sub = await open_line(seeded_api, "PLAN_S")
    await start_line(temporal_env, sub_queue, sub)
    before = await balances(seeded_db, sub)
    await _refuse_recording(seeded_db, "%:vas:%")
    key = f"sub-{sub}:vas:late-1"
    request = asyncio.ensure_future(seeded_api.post(
        f"{OPS}/{sub}/vas", json={"offeringId": "VAS_DATA_1GB", "requestId": "late-1"}, timeout=120))
    await until(lambda: _approved_at_gateway(key), "the gateway never approved the VAS charge", timeout=30)
    await _allow_recording(seeded_db)

    bought = await request
    assert bought.status_code == 201, bought.text
    assert await charges(seeded_db, sub) == [(key, 300)]
    assert not await _refunded(seeded_db, key)
    assert (await _intent(seeded_db, key))["state"] == "settled"
    after = await balances(seeded_db, sub)
    assert after["data"] == (before["data"][0] + GB, before["data"][1])
    assert get_gateway().charge_requests[key] >= 2  # the retry asked again under the one key: a replay, one charge


async def _pending(handle, activity: str) -> bool:
    pending = (await handle.describe()).raw_description.pending_activities
    return any(a.activity_type.name == activity for a in pending)


async def _refunded(db: AsyncEngine, key: str) -> bool:
    found = await rows(db, "SELECT 1 FROM payment.refund r JOIN payment.payment p ON p.id = r.payment_id "
                           "WHERE p.idempotency_key = :k AND r.status = 'approved'", k=key)
    return bool(found)


async def _forgotten_intent(db: AsyncEngine, customer: str, key: str, age_hours: float, charge: bool) -> None:
    """An intent its caller left open `age_hours` ago, with or without a charge the gateway kept."""
    (card,) = await rows(db, "SELECT id, gateway_token FROM payment.payment_method WHERE customer_id = :c", c=customer)
    async with db.begin() as conn:
        await conn.exec_driver_sql(
            "INSERT INTO payment.charge_intent (idempotency_key, customer_id, payment_method_id, amount_minor, "
            "currency, purpose, reference, state, created_at, updated_at) VALUES ($1, $2, $3, 700, 'SGD', 'manual', "
            "NULL, 'open', now() - make_interval(secs => $4), now() - make_interval(secs => $4))",
            (key, customer, card["id"], age_hours * 3600))
    if charge:
        assert get_gateway().charge(card["gateway_token"], 700, "SGD", key).status == "approved"


async def test_the_sweep_settles_charges_nobody_came_back_for(seeded_api, seeded_db):
    customer = await ready_customer(seeded_api)
    await _forgotten_intent(seeded_db, customer, "manual-lost-approved", 4, charge=True)
    await _forgotten_intent(seeded_db, customer, "manual-lost-untaken", 4, charge=False)
    await _forgotten_intent(seeded_db, customer, "manual-in-flight", 0.1, charge=True)  # its caller may still come

    swept = await ChargeReconciler().sweep()

    assert sorted(swept) == ["manual-lost-approved", "manual-lost-untaken"]
    assert (await _intent(seeded_db, "manual-lost-approved"))["state"] == "settled"
    assert await _refunded(seeded_db, "manual-lost-approved")
    assert (await _intent(seeded_db, "manual-lost-untaken"))["state"] == "abandoned"
    assert (await _intent(seeded_db, "manual-in-flight"))["state"] == "open"
    # A late attempt under the closed key is refused; the open one still completes normally.
    late = await seeded_api.post(PAYMENTS, headers={"Idempotency-Key": "manual-lost-untaken"}, json={
        "account": {"id": customer, "@referredType": "Customer"}, "paymentMethod": {"@referredType": "bankCard"},
        "totalAmount": {"unit": "SGD", "value": 7.00}})
    assert late.status_code == 409 and late.json()["code"] == "payment.charge.key_abandoned", late.text
    assert await ChargeReconciler().sweep() == []  # nothing left to settle
    paid = await rows(seeded_db, "SELECT status FROM payment.payment WHERE idempotency_key LIKE 'manual-%'")
    assert [p["status"] for p in paid] == ["approved"]
