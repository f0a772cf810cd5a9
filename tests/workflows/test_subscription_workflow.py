"""The line's lifecycle on real Temporal (time driven by `fast_forward`), real PostgreSQL and the real API."""

from __future__ import annotations

import asyncio
import json

from activities.catalog_admin import NewMigration, NewPrice, add_price, migrate_price
from apis import line_workflow
from domain.catalog import PriceType
from tests.support.factories import APPROVE, DECLINE
from tests.workflows.order_helpers import rows, set_fault
from tests.workflows.subscription_helpers import (
    GB,
    balances,
    bills,
    charges,
    days,
    eventually,
    fast_forward,
    line,
    open_line,
    start_line,
    subscription_queue,  # noqa: F401 - the `sub_queue` fixture
    tasks,
    use_data,
)
from workflows.subscription import SubscriptionWorkflow

OPS = "/bss-api/v1/subscription"
TOPUP = "/tmf-api/prepayBalanceManagement/v4/topupBalance"
PLAN_M = {"data": (30 * GB, 0), "voice": (-1, 0), "sms": (-1, 0), "data_roaming": (500, 0)}
PLAN_S = {"data": (5 * GB, 0), "voice": (6000, 0), "sms": (100, 0), "data_roaming": (0, 0)}


async def test_renewal_charges_the_snapshot_price_even_after_a_catalog_reprice(seeded_api, seeded_db, temporal_env,
                                                                               sub_queue):
    sub = await open_line(seeded_api, "PLAN_M")
    await add_price(NewPrice(offering_id="PLAN_M", name="Standard promo", price_minor=1900, currency="SGD",
                             price_type=PriceType.RECURRING, period_days=30))
    handle = await start_line(temporal_env, sub_queue, sub)
    await use_data(seeded_api, seeded_db, sub, 2 * GB)
    await fast_forward(temporal_env, handle, days=30, hours=1)
    snap = await handle.query(SubscriptionWorkflow.snapshot)
    assert (snap.renewals, snap.line.period_number, snap.line.state) == (1, 2, "active")
    assert await charges(seeded_db, sub) == [(f"sub-{sub}:renewal:2", 2500)]
    assert await bills(seeded_db, sub) == [("renewal", f"sub-{sub}:renewal:2", 2500)]
    assert await balances(seeded_db, sub) == PLAN_M  # consumption reset with the new period
    row = await line(seeded_db, sub)
    assert (row["period_number"], row["price_minor"], row["offering_id"]) == (2, 2500, "PLAN_M")
    assert row["current_period_end"] - row["current_period_start"] == days(30)


async def test_declined_renewal_blocks_at_once_and_an_explicit_renew_charges_once_and_reactivates(
        seeded_api, seeded_db, temporal_env, sub_queue):
    sub = await open_line(seeded_api, "PLAN_M", card=DECLINE)
    handle = await start_line(temporal_env, sub_queue, sub)
    plan_change = await seeded_api.post(f"{OPS}/{sub}/plan-change", json={"offeringId": "PLAN_L"})
    assert plan_change.status_code == 200, plan_change.text
    await fast_forward(temporal_env, handle, days=30, hours=1)
    row = await line(seeded_db, sub)
    assert (row["state"], row["blocked_reason"], row["period_number"]) == ("blocked", "renewal_declined", 1)
    assert row["pending_offering_id"] == "PLAN_L"  # a declined renewal keeps the scheduled change
    assert await charges(seeded_db, sub, "declined") == [(f"sub-{sub}:renewal:2", 4500)]
    await eventually(lambda: _equals(tasks(seeded_db, sub), [("PCRF_BLOCK", "completed")]))
    # No grace and no retry on the timer: the line waits for an explicit renew.
    await fast_forward(temporal_env, handle, days=10)
    assert await charges(seeded_db, sub, "declined") == [(f"sub-{sub}:renewal:2", 4500)]

    refused = await seeded_api.post(f"{OPS}/{sub}/renew", json={"requestId": "renew-1"})
    assert refused.status_code == 422 and refused.json()["code"] == "subscription.renew.payment_declined"
    card = await seeded_api.post("/tmf-api/paymentMethod/v4/paymentMethod", json={
        "@type": "bankCard", "relatedParty": {"id": row["customer_id"], "@referredType": "Customer"},
        "cardNumber": APPROVE, "expirationDate": "12/35", "nameOnCard": "Mei Tan", "isPreferred": True})
    assert card.status_code == 201, card.text
    renewed = await seeded_api.post(f"{OPS}/{sub}/renew", json={"requestId": "renew-2"})
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert (body["periodNumber"], body["amountMinor"], body["subscription"]["state"]) == (2, 4500, "active")
    assert body["subscription"]["offeringId"] == "PLAN_L"  # the change pivoted with the paid period
    again = await seeded_api.post(f"{OPS}/{sub}/renew", json={"requestId": "renew-2"})
    assert again.status_code == 200 and again.json()["paymentId"] == body["paymentId"]
    assert await charges(seeded_db, sub) == [(f"sub-{sub}:renew:renew-2", 4500)]  # exactly one renewal charge
    assert await bills(seeded_db, sub) == [("renewal", f"sub-{sub}:renew:renew-2", 4500)]
    await eventually(lambda: _equals(tasks(seeded_db, sub), [("PCRF_BLOCK", "completed"),
                                                             ("PCRF_UNBLOCK", "completed")]))
    row = await line(seeded_db, sub)
    assert (row["state"], row["blocked_reason"], row["offering_id"], row["price_minor"]) == (
        "active", None, "PLAN_L", 4500)


async def test_scheduled_plan_change_pivots_at_renewal_with_the_new_price(seeded_api, seeded_db, temporal_env,
                                                                         sub_queue):
    sub = await open_line(seeded_api, "PLAN_M")
    handle = await start_line(temporal_env, sub_queue, sub)
    await fast_forward(temporal_env, handle, days=5)
    same = await seeded_api.post(f"{OPS}/{sub}/plan-change", json={"offeringId": "PLAN_M"})
    assert same.status_code == 422 and same.json()["code"] == "subscription.plan_change.same_offering"
    vas = await seeded_api.post(f"{OPS}/{sub}/plan-change", json={"offeringId": "VAS_DATA_1GB"})
    assert vas.status_code == 422 and vas.json()["code"] == "subscription.plan_change.target_not_sellable"
    change = await seeded_api.post(f"{OPS}/{sub}/plan-change", json={"offeringId": "PLAN_S"})
    assert change.status_code == 200, change.text
    assert change.json()["pendingPlanChange"]["offeringId"] == "PLAN_S"
    assert change.json()["pendingPlanChange"]["priceMinor"] == 1000
    twice = await seeded_api.post(f"{OPS}/{sub}/plan-change", json={"offeringId": "PLAN_L"})
    assert twice.status_code == 422 and twice.json()["code"] == "subscription.plan_change.already_pending"
    await fast_forward(temporal_env, handle, days=26)
    row = await line(seeded_db, sub)
    assert (row["offering_id"], row["price_minor"], row["pending_offering_id"], row["period_number"]) == (
        "PLAN_S", 1000, None, 2)
    assert await charges(seeded_db, sub) == [(f"sub-{sub}:renewal:2", 1000)]
    assert await balances(seeded_db, sub) == PLAN_S
    (applied,) = await rows(seeded_db, "SELECT payload FROM audit.domain_event WHERE aggregate_id = :s AND "
                                       "event_type = 'subscription.plan_change.applied'", s=sub)
    assert applied["payload"] == {"from": "PLAN_M", "to": "PLAN_S", "priceMinor": 1000}


async def test_a_cancelled_plan_change_renews_on_the_current_plan(seeded_api, seeded_db, temporal_env, sub_queue,
                                                                  bss):
    sub = await open_line(seeded_api, "PLAN_M")
    handle = await start_line(temporal_env, sub_queue, sub)
    scheduled = await bss("subscription", "plan-change", sub, "--offering", "PLAN_L", "--json")
    assert scheduled.exit_code == 0, scheduled.output
    assert json.loads(scheduled.output)["pendingPlanChange"]["offeringId"] == "PLAN_L"
    cancel = await bss("subscription", "cancel-plan-change", sub)
    assert cancel.exit_code == 0 and "scheduled plan change dropped" in cancel.output, cancel.output
    assert (await line(seeded_db, sub))["pending_offering_id"] is None
    nothing = await seeded_api.post(f"{OPS}/{sub}/plan-change/cancel")
    assert nothing.status_code == 422 and nothing.json()["code"] == "subscription.plan_change.nothing_pending"
    refused = await bss("subscription", "cancel-plan-change", sub)
    assert refused.exit_code == 2 and "subscription.plan_change.nothing_pending" in refused.output
    await fast_forward(temporal_env, handle, days=30, hours=1)
    row = await line(seeded_db, sub)
    assert (row["offering_id"], row["price_minor"], row["pending_offering_id"]) == ("PLAN_M", 2500, None)
    assert await charges(seeded_db, sub) == [(f"sub-{sub}:renewal:2", 2500)]


async def test_price_migration_applies_at_the_first_renewal_after_its_notice(seeded_api, seeded_db, temporal_env,
                                                                            sub_queue):
    sub = await open_line(seeded_api, "PLAN_M")
    handle = await start_line(temporal_env, sub_queue, sub)
    # Effective 30 days from now: just after this line's first renewal (activated a moment earlier).
    migration = await migrate_price(NewMigration(offering_id="PLAN_M", price_minor=2800, notice_days=30))
    await fast_forward(temporal_env, handle, days=30, hours=1)
    assert await charges(seeded_db, sub) == [(f"sub-{sub}:renewal:2", 2500)]  # still inside the notice
    await fast_forward(temporal_env, handle, days=30)
    assert await charges(seeded_db, sub) == [(f"sub-{sub}:renewal:2", 2500), (f"sub-{sub}:renewal:3", 2800)]
    row = await line(seeded_db, sub)
    assert (row["price_minor"], row["period_number"]) == (2800, 3)
    (migrated,) = await rows(seeded_db, "SELECT payload FROM audit.domain_event WHERE aggregate_id = :s AND "
                                        "event_type = 'subscription.price_migrated'", s=sub)
    assert migrated["payload"]["migrationId"] == migration
    await fast_forward(temporal_env, handle, days=30)  # the new price is now the line's snapshot
    assert (await charges(seeded_db, sub))[-1] == (f"sub-{sub}:renewal:4", 2800)


async def test_day_pass_expires_after_24_hours_and_balances_return_to_the_plan(seeded_api, seeded_db, temporal_env,
                                                                              sub_queue):
    sub = await open_line(seeded_api, "PLAN_M")
    handle = await start_line(temporal_env, sub_queue, sub)
    await use_data(seeded_api, seeded_db, sub, 1 * GB)
    bought = await seeded_api.post(f"{OPS}/{sub}/vas", json={"offeringId": "VAS_UNLIMITED_DAY", "requestId": "dp-1"})
    assert bought.status_code == 201, bought.text
    assert (await balances(seeded_db, sub))["data"] == (-1, 1 * GB)
    await use_data(seeded_api, seeded_db, sub, 40 * GB)  # more than the plan: free during the pass
    await fast_forward(temporal_env, handle, hours=23)
    assert (await balances(seeded_db, sub))["data"][0] == -1
    await fast_forward(temporal_env, handle, hours=2)
    assert (await balances(seeded_db, sub))["data"] == (30 * GB, 1 * GB)
    assert (await line(seeded_db, sub))["state"] == "active"
    assert await charges(seeded_db, sub) == [(f"sub-{sub}:vas:dp-1", 500)]
    assert await bills(seeded_db, sub) == [("vas", f"sub-{sub}:vas:dp-1", 500)]
    snap = await handle.query(SubscriptionWorkflow.snapshot)
    assert snap.vas_timers == []


async def test_data_vas_on_an_exhausted_line_unblocks_it_and_a_roaming_vas_does_not(seeded_api, seeded_db,
                                                                                   temporal_env, sub_queue):
    sub = await open_line(seeded_api, "PLAN_S")
    handle = await start_line(temporal_env, sub_queue, sub)
    await use_data(seeded_api, seeded_db, sub, 5 * GB)  # rating blocks the line and signals the workflow
    assert (await line(seeded_db, sub))["blocked_reason"] == "data_exhausted"
    await eventually(lambda: _equals(tasks(seeded_db, sub), [("PCRF_BLOCK", "completed")]))
    roaming = await seeded_api.post(f"{OPS}/{sub}/vas", json={"offeringId": "VAS_ROAMING_1GB", "requestId": "r-1"})
    assert roaming.status_code == 201, roaming.text
    assert roaming.json()["unblocked"] is False and roaming.json()["subscription"]["state"] == "blocked"
    assert (await balances(seeded_db, sub))["data_roaming"] == (1 * GB, 0)
    data = await seeded_api.post(f"{OPS}/{sub}/vas", json={"offeringId": "VAS_DATA_1GB", "requestId": "d-1"})
    assert data.status_code == 201, data.text
    assert data.json()["unblocked"] is True and data.json()["subscription"]["state"] == "active"
    assert (await balances(seeded_db, sub))["data"] == (6 * GB, 5 * GB)
    await eventually(lambda: _equals(tasks(seeded_db, sub), [("PCRF_BLOCK", "completed"),
                                                             ("PCRF_UNBLOCK", "completed")]))
    assert await charges(seeded_db, sub) == [(f"sub-{sub}:vas:r-1", 800), (f"sub-{sub}:vas:d-1", 300)]
    replay = await seeded_api.post(f"{OPS}/{sub}/vas", json={"offeringId": "VAS_DATA_1GB", "requestId": "d-1"})
    assert replay.status_code == 201 and replay.json()["paymentId"] == data.json()["paymentId"]
    assert len(await charges(seeded_db, sub)) == 2
    # End-of-period top-ups end with the period.
    await fast_forward(temporal_env, handle, days=30, hours=1)
    assert await balances(seeded_db, sub) == PLAN_S


async def test_termination_releases_everything_and_the_number_returns_after_quarantine(seeded_api, seeded_db,
                                                                                       temporal_env, sub_queue):
    sub = await open_line(seeded_api, "PLAN_M")
    handle = await start_line(temporal_env, sub_queue, sub)
    assert (await seeded_api.post(f"{OPS}/{sub}/plan-change", json={"offeringId": "PLAN_S"})).status_code == 200
    ended = await seeded_api.post(f"{OPS}/{sub}/terminate", json={"reason": "moving abroad"})
    assert ended.status_code == 200, ended.text
    assert (ended.json()["state"], ended.json()["pendingPlanChange"]) == ("terminated", None)
    row = await line(seeded_db, sub)
    (number,) = await rows(seeded_db, "SELECT state, quarantine_until FROM inventory.msisdn WHERE number = :n",
                           n=row["msisdn"])
    assert number["state"] == "quarantine"
    assert number["quarantine_until"] - row["terminated_at"] == days(90)
    (esim,) = await rows(seeded_db, "SELECT state FROM inventory.esim_profile WHERE iccid = :i", i=row["iccid"])
    assert esim["state"] == "recycled"
    await eventually(lambda: _equals(tasks(seeded_db, sub), [
        ("HLR_DEPROVISION", "completed"), ("PCRF_POLICY_REMOVE", "completed"), ("ESIM_PROFILE_DISABLE", "completed")]))
    again = await seeded_api.post(f"{OPS}/{sub}/terminate")
    assert again.status_code == 422 and again.json()["code"] == "subscription.terminate.only_if_live"
    vas = await seeded_api.post(f"{OPS}/{sub}/vas", json={"offeringId": "VAS_DATA_1GB", "requestId": "late"})
    assert vas.status_code == 422 and vas.json()["code"] == "subscription.vas_purchase.not_if_terminated"
    await fast_forward(temporal_env, handle, days=89)
    assert (await rows(seeded_db, "SELECT state FROM inventory.msisdn WHERE number = :n",
                       n=row["msisdn"]))[0]["state"] == "quarantine"
    assert not await temporal_env.fast_forward(handle, days(2))  # the workflow ends inside this window
    assert await handle.result() == "terminated"
    assert (await rows(seeded_db, "SELECT state FROM inventory.msisdn WHERE number = :n",
                       n=row["msisdn"]))[0]["state"] == "available"
    assert await charges(seeded_db, sub) == []  # nothing renewed after termination


async def test_a_refused_update_leaves_no_history(seeded_api, seeded_db, temporal_env, sub_queue):
    sub = await open_line(seeded_api, "PLAN_M")
    handle = await start_line(temporal_env, sub_queue, sub)
    await eventually(lambda: _snapshot_ready(handle))
    before = len([e async for e in handle.fetch_history_events()])
    from temporalio.client import WorkflowUpdateFailedError

    from domain.subscription_flow import ChangePlan

    try:
        await handle.execute_update(SubscriptionWorkflow.change_plan, ChangePlan(offering_id="PLAN_M"))
        raise AssertionError("the update should have been refused")
    except WorkflowUpdateFailedError as exc:
        assert "subscription.plan_change.same_offering" in str(exc.cause)
    assert len([e async for e in handle.fetch_history_events()]) == before
    unknown = await seeded_api.post(f"{OPS}/SUB-999999/renew", json={"requestId": "x"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "subscription.not_found"


async def _equals(value, expected) -> bool:
    got = await value
    assert got == expected, got
    return True


async def _true(condition: bool) -> bool:
    """`condition`, as a check `eventually` can poll."""
    return condition


async def _snapshot_ready(handle) -> bool:
    return (await handle.query(SubscriptionWorkflow.snapshot)).line is not None


async def test_tmf654_topup_buys_the_matching_vas(seeded_api, seeded_db, temporal_env, sub_queue):
    sub = await open_line(seeded_api, "PLAN_S")
    await start_line(temporal_env, sub_queue, sub)
    await use_data(seeded_api, seeded_db, sub, 5 * GB)
    topup = {"bucket": {"id": f"{sub}-data"}, "amount": {"amount": 1, "units": "GB"}, "usageType": "data"}
    created = await seeded_api.post(TOPUP, json=topup, headers={"Idempotency-Key": "k-1"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["productOffering"]["id"], body["amount"]) == (
        "completed", "VAS_DATA_1GB", {"amount": 1, "units": "GB"})
    assert (await line(seeded_db, sub))["state"] == "active"
    again = await seeded_api.post(TOPUP, json=topup, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    fetched = await seeded_api.get(f"{TOPUP}/{body['id']}")
    assert fetched.status_code == 200 and fetched.json()["payment"] == body["payment"]
    day = await seeded_api.post(TOPUP, json={**topup, "amount": {"amount": 1, "units": "day"}})
    assert day.status_code == 201 and day.json()["productOffering"]["id"] == "VAS_UNLIMITED_DAY"
    none = await seeded_api.post(TOPUP, json={**topup, "amount": {"amount": 2, "units": "GB"}})
    assert none.status_code == 422 and none.json()["code"] == "subscription.vas_purchase.offering_sellable"
    voice = await seeded_api.post(TOPUP, json={**topup, "bucket": {"id": f"{sub}-voice"}})
    assert voice.status_code == 422 and voice.json()["code"] == "subscription.vas_purchase.offering_sellable"
    paid = await charges(seeded_db, sub)  # the retried POST charged nothing more
    assert [amount for _, amount in paid] == [300, 500] and paid[0][0] == f"sub-{sub}:vas:tmf654-k-1"
    assert (await seeded_api.get(f"{TOPUP}/TOP-999999")).status_code == 404


async def test_a_stuck_block_task_waits_for_the_operator_without_holding_up_the_line(seeded_api, seeded_db,
                                                                                    temporal_env, sub_queue):
    await set_fault(seeded_api, "PCRF_BLOCK", "stuck")
    sub = await open_line(seeded_api, "PLAN_S")
    await start_line(temporal_env, sub_queue, sub)
    await use_data(seeded_api, seeded_db, sub, 5 * GB)
    await eventually(lambda: _equals(tasks(seeded_db, sub), [("PCRF_BLOCK", "stuck")]))
    lifecycle = (await eventually(lambda: _stuck_lifecycle(seeded_api, sub))).json()
    assert lifecycle["subscription"]["state"] == "blocked" and lifecycle["networkBlocked"] is False
    # The line itself is not held up by the network: a top-up goes through meanwhile.
    data = await seeded_api.post(f"{OPS}/{sub}/vas", json={"offeringId": "VAS_DATA_1GB", "requestId": "d-1"})
    assert data.status_code == 201 and data.json()["subscription"]["state"] == "active"
    (task_id,) = lifecycle["stuckTaskIds"]
    resolved = await seeded_api.post(f"/provisioning-api/v1/task/{task_id}/resolve",
                                     json={"note": "barred by hand on the PCRF console"})
    assert resolved.status_code == 200, resolved.text
    # Then the lane catches up with what the line is now: unblocked.
    await eventually(lambda: _equals(tasks(seeded_db, sub), [("PCRF_BLOCK", "completed"),
                                                             ("PCRF_UNBLOCK", "completed")]))


async def _stuck_lifecycle(api, sub: str):
    response = await api.get(f"{OPS}/{sub}/lifecycle")
    assert response.status_code == 200 and response.json()["stuckTaskIds"], response.text
    return response


async def test_a_request_on_a_line_whose_workflow_is_being_started_waits_for_it(seeded_api, temporal_env, sub_queue,
                                                                               monkeypatch):
    # An order is `completed` a moment before its line's workflow exists (workflows/order.py,
    # the activate stage): a client acting at once is answered once it is there.
    sub = await open_line(seeded_api, "PLAN_M")
    # The request reloads its line each time Temporal answers NOT_FOUND (is the line still live?).
    loads: list[str] = []
    load_line_row = line_workflow.load_line_row

    async def counted(subscription_id: str) -> dict:
        loads.append(subscription_id)
        return await load_line_row(subscription_id)

    monkeypatch.setattr(line_workflow, "load_line_row", counted)

    async def start_late() -> None:
        # Start the workflow only once the request has been told it does not exist yet.
        await eventually(lambda: _true(loads.count(sub) >= 2), timeout=10)
        await start_line(temporal_env, sub_queue, sub)

    bought, _ = await asyncio.gather(seeded_api.post(f"{OPS}/{sub}/vas", json={
        "offeringId": "VAS_DATA_1GB", "requestId": "early-1"}), start_late())
    assert bought.status_code == 201, bought.text
    assert bought.json()["subscription"]["id"] == sub
    # A live line whose workflow never comes is a 404 once the (bounded) wait is over.
    monkeypatch.setattr(line_workflow, "LINE_WORKFLOW_GRACE_S", 0.2)
    orphan = await open_line(seeded_api, "PLAN_M")
    gone = await seeded_api.post(f"{OPS}/{orphan}/vas", json={"offeringId": "VAS_DATA_1GB", "requestId": "o-1"})
    assert gone.status_code == 404 and gone.json()["code"] == "workflow.not_found"
    lifecycle = await seeded_api.get(f"{OPS}/{orphan}/lifecycle")
    assert lifecycle.status_code == 404 and lifecycle.json()["code"] == "workflow.not_found"
