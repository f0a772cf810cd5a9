"""TMF654 adjustBalance: a care agent's goodwill credit or correction to a bucket — exact, bounded, audited.

Consumption is set with plain SQL on `subscription.bundle_balance` (rating owns the real writes).
"""

from __future__ import annotations

import asyncio
import json
import uuid

from sqlalchemy import text

from core.settings import get_settings
from tests.api.test_product_inventory import active_line, sql
from tests.api.test_spec_minimal_bodies import create_validator, documented, spec_value
from tests.conftest import client_for
from tests.workflows.subscription_helpers import eventually, tasks

ADJUST = "/tmf-api/prepayBalanceManagement/v4/adjustBalance"
BUCKETS = "/tmf-api/prepayBalanceManagement/v4/bucket"
PRODUCTS = "/tmf-api/productInventory/v4/product"
P654 = "TMF654-PrepayBalance-v4.0.0.swagger.json"
CHECKED = {"amount", "href", "id", "status", "usageType"}


def body(bucket: str, amount: float, units: str = "MB", reason: str | None = "goodwill: outage", **extra) -> dict:
    out = {"bucket": {"id": bucket}, "usageType": "data", "amount": {"amount": amount, "units": units}, **extra}
    return out | ({"reason": reason} if reason is not None else {})


async def state(db, sub: str) -> tuple:
    """What an adjustment may change: the line, its balances, its adjustments and audit rows."""
    async with db.connect() as conn:
        return (
            (await conn.execute(text("SELECT state, blocked_reason FROM subscription.subscription WHERE id = :s"),
                                {"s": sub})).one(),
            (await conn.execute(text("SELECT allowance_type, total, consumed FROM subscription.bundle_balance "
                                     "WHERE subscription_id = :s ORDER BY 1"), {"s": sub})).all(),
            (await conn.execute(text("SELECT count(*) FROM subscription.balance_adjustment"))).scalar_one(),
            (await conn.execute(text("SELECT count(*) FROM audit.domain_event"))).scalar_one())


async def assert_refused(api, db, sub: str, status: int, code: str, payload: dict, **kwargs) -> None:
    """POST an adjustment that must be refused with `status`/`code` and change nothing."""
    before = await state(db, sub)
    response = await api.post(ADJUST, json=payload, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.json()
    assert await state(db, sub) == before


async def bucket(api, ident: str) -> dict:
    response = await api.get(f"{BUCKETS}/{ident}")
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_credit_is_exact_audited_listed_and_replayed_once(seeded_api, seeded_db):
    _, sub = await active_line(seeded_api)
    key = {"Idempotency-Key": f"adj-{uuid.uuid4()}"}
    made = await seeded_api.post(ADJUST, json=body(f"{sub}-data", 1.5, "GB", description="May outage"),
                                 headers={**key, "X-BSS-Actor": "csr-anna"})
    assert made.status_code == 201, made.text
    adjustment = made.json()
    assert CHECKED <= adjustment.keys() and adjustment["id"].startswith("ADJ-")
    assert (adjustment["status"], adjustment["amount"], adjustment["bucket"]["id"], adjustment["reason"]) == (
        "completed", {"amount": 1536, "units": "MB"}, f"{sub}-data", "goodwill: outage")
    assert adjustment["requestor"]["name"] == "csr-anna" and adjustment["description"] == "May outage"
    data = await bucket(seeded_api, f"{sub}-data")
    assert (data["totalValue"]["amount"], data["remainingValue"]["amount"]) == (30720 + 1536, 30720 + 1536)
    replay = await seeded_api.post(ADJUST, json=body(f"{sub}-data", 1.5, "GB"), headers=key)
    assert replay.status_code == 200 and replay.json()["id"] == adjustment["id"]
    assert (await bucket(seeded_api, f"{sub}-data"))["totalValue"]["amount"] == 30720 + 1536
    await assert_refused(seeded_api, seeded_db, sub, 409, "balance.adjust.idempotency_key_reused",
                         body(f"{sub}-data", 2, "GB"), headers=key)
    # A correction the other way, on the roaming bucket, in its base unit.
    debit = await seeded_api.post(ADJUST, json=body(f"{sub}-data_roaming", -100) | {"amount": {"amount": -100}})
    assert debit.status_code == 201 and debit.json()["amount"] == {"amount": -100, "units": "MB"}
    assert (await bucket(seeded_api, f"{sub}-data_roaming"))["totalValue"]["amount"] == 400
    listed = await seeded_api.get(ADJUST, params={"product.id": sub})
    assert [a["id"] for a in listed.json()] == [debit.json()["id"], adjustment["id"]]
    assert listed.headers["X-Total-Count"] == "2"
    assert [a["id"] for a in (await seeded_api.get(ADJUST, params={"bucket.id": f"{sub}-data"})).json()] == [
        adjustment["id"]]
    one = await seeded_api.get(f"{ADJUST}/{adjustment['id']}")
    assert one.status_code == 200 and one.json() == adjustment
    assert (await seeded_api.get(f"{ADJUST}/ADJ-999999999")).status_code == 404
    async with seeded_db.connect() as conn:
        events = (await conn.execute(text(
            "SELECT actor, payload FROM audit.domain_event WHERE event_type = 'subscription.balance.adjusted' "
            "AND aggregate_id = :s ORDER BY id"), {"s": sub})).all()
    assert [(e.actor, e.payload["quantity"], e.payload["after"]["total"]) for e in events] == [
        ("csr-anna", 1536, 32256), (events[1].actor, -100, 400)]


async def test_refusals_change_nothing(seeded_api, seeded_db, api_url):
    customer, sub = await active_line(seeded_api)
    data = f"{sub}-data"
    await sql(seeded_db, "UPDATE subscription.bundle_balance SET consumed = 30000 WHERE subscription_id = :s"
                         " AND allowance_type = 'data'", s=sub)
    cases = [
        (body(data, 512, reason=None), "balance.adjust.reason_required"),
        (body(data, 512, reason="  "), "balance.adjust.reason_required"),
        (body(data, 0), "balance.adjust.amount_non_zero"),
        (body(data, 11, "GB"), "balance.adjust.within_limit"),
        (body(data, 5, "min"), "balance.adjust.units_known"),
        ({"bucket": {"id": data}, "usageType": "data", "amount": {"units": "MB"}, "reason": "x"},
         "balance.adjust.amount_required"),
        (body(data, 0.0001, "GB"), "balance.adjust.whole_base_units"),
        (body(data, 512) | {"usageType": "voice"}, "balance.adjust.usage_type_matches"),
        (body(data, 512, adjustType="recurring"), "balance.adjust.one_time_only"),
        (body(f"{sub}-voice", 60, "s") | {"usageType": "voice"}, "balance.adjust.bucket_limited"),
        (body(data, -721), "balance.adjust.not_below_consumed"),
    ]
    for payload, code in cases:
        await assert_refused(seeded_api, seeded_db, sub, 422, code, payload)
    await assert_refused(seeded_api, seeded_db, sub, 404, "bucket.not_found", body(f"{sub}-minutes", 5))
    await assert_refused(seeded_api, seeded_db, sub, 404, "subscription.not_found", body("SUB-999999-data", 5))
    # A customer never moves their own balance: not through the portal, not through the agent on their behalf.
    for surface in ("portal-self-serve", "agent"):
        async with client_for(api_url, surface, **{"X-BSS-On-Behalf-Of": customer}) as bound:
            await assert_refused(bound, seeded_db, sub, 403, "auth.scope.denied", body(data, 512))
    await sql(seeded_db, "UPDATE subscription.subscription SET state = 'terminated' WHERE id = :s", s=sub)
    await assert_refused(seeded_api, seeded_db, sub, 422, "balance.adjust.line_live", body(data, 512))


async def test_a_debit_that_uses_data_up_blocks_and_a_credit_lifts_the_block_on_the_network_too(
        seeded_api, seeded_db):
    _, sub = await active_line(seeded_api)
    await sql(seeded_db, "UPDATE subscription.bundle_balance SET consumed = 30000 WHERE subscription_id = :s"
                         " AND allowance_type = 'data'", s=sub)
    debit = await seeded_api.post(ADJUST, json=body(f"{sub}-data", -720, reason="correction: double grant"))
    assert debit.status_code == 201, debit.text
    assert (await seeded_api.get(f"{PRODUCTS}/{sub}")).json()["status"] == "suspended"
    # The line's workflow is told after commit and pushes the block to the network, as for rating.
    await eventually(lambda: _equals(tasks(seeded_db, sub), [("PCRF_BLOCK", "completed")]))
    credit = await seeded_api.post(ADJUST, json=body(f"{sub}-data", 512))
    assert credit.status_code == 201, credit.text
    data = await bucket(seeded_api, f"{sub}-data")
    assert (data["remainingValue"]["amount"], data["status"]) == (512, "active")
    assert (await seeded_api.get(f"{PRODUCTS}/{sub}")).json()["status"] == "active"
    await eventually(lambda: _equals(tasks(seeded_db, sub), [("PCRF_BLOCK", "completed"),
                                                             ("PCRF_UNBLOCK", "completed")]))
    async with seeded_db.connect() as conn:
        changes = (await conn.execute(text(
            "SELECT event_type, payload->>'by' FROM audit.domain_event WHERE aggregate_id = :s AND event_type IN "
            "('subscription.blocked', 'subscription.unblocked') ORDER BY id"), {"s": sub})).all()
    number = {a.json()["id"].removeprefix("ADJ-") for a in (debit, credit)}
    assert [c[0] for c in changes] == ["subscription.blocked", "subscription.unblocked"]
    assert {c[1] for c in changes} == {f"adjustment {n}" for n in number}


async def _equals(current, expected) -> bool:
    return await current == expected


async def test_each_optional_spec_attribute_is_accepted_never_a_400(seeded_api, seeded_db):
    # Every optional AdjustBalance_Create property alone, on a body refused for its amount of 0.
    spec = json.loads((get_settings().tmf_specs_dir / P654).read_text())
    definition = spec["definitions"]["AdjustBalance_Create"]
    base = {"amount": {"amount": 0, "units": "MB"}, "usageType": "data", "bucket": {"id": "SUB-000001-data"}}
    probed = sorted(set(definition["properties"]) - set(definition["required"]))
    assert len(probed) == 11
    for name in probed:
        payload = base | {name: spec_value(spec, definition["properties"][name])}
        assert not list(create_validator(P654, "AdjustBalance_Create").iter_errors(payload)), name
        response = await seeded_api.post(ADJUST, json=payload)
        assert response.status_code == 422 and documented(response.json()["code"]), (name, response.text)


async def test_an_adjustment_lasts_its_bundle_period(seeded_api):
    _, sub = await active_line(seeded_api)
    made = await seeded_api.post(ADJUST, json=body(f"{sub}-data", 1, "GB"))
    assert made.status_code == 201, made.text
    assert (await bucket(seeded_api, f"{sub}-data"))["totalValue"]["amount"] == 30720 + 1024
    renewed = await seeded_api.post(f"/bss-api/v1/subscription/{sub}/renew", json={"requestId": f"r-{uuid.uuid4()}"})
    assert renewed.status_code == 200, renewed.text
    data = await bucket(seeded_api, f"{sub}-data")
    assert (data["totalValue"]["amount"], data["validFor"]["startDateTime"] > made.json()["validFor"]["startDateTime"]
            ) == (30720, True)


async def test_concurrent_debits_cannot_both_pass_the_bound(seeded_api, seeded_db):
    _, sub = await active_line(seeded_api)
    await sql(seeded_db, "UPDATE subscription.bundle_balance SET consumed = 30000 WHERE subscription_id = :s"
                         " AND allowance_type = 'data'", s=sub)
    # 720 MB are left: each debit of 500 fits alone, both together would go below what was used.
    answers = await asyncio.gather(*(seeded_api.post(ADJUST, json=body(f"{sub}-data", -500, reason=f"fix {n}"))
                                     for n in range(2)))
    assert sorted(a.status_code for a in answers) == [201, 422]
    refused = next(a for a in answers if a.status_code == 422)
    assert refused.json()["code"] == "balance.adjust.not_below_consumed"
    data = await bucket(seeded_api, f"{sub}-data")
    assert (data["totalValue"]["amount"], data["consumedValue"]["amount"]) == (30220, 30000)
