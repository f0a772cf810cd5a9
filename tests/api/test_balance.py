"""TMF654 buckets: one per line × allowance, spec-valid, following the balance rows as they change.

Balance changes are made with plain SQL on `subscription.bundle_balance` (rating owns the real writes).
"""

from __future__ import annotations

from tests.api.test_product_inventory import active_line, sql

BUCKETS = "/tmf-api/prepayBalanceManagement/v4/bucket"
CHECKED = {"confirmationDate", "href", "id", "status", "usageType"}


async def test_an_activated_plan_has_one_bucket_per_allowance(seeded_api, seeded_db):
    customer, sub = await active_line(seeded_api)
    response = await seeded_api.get(BUCKETS, params={"product.id": sub})
    assert response.status_code == 200, response.text
    buckets = response.json()
    assert [b["id"] for b in buckets] == [f"{sub}-data", f"{sub}-voice", f"{sub}-sms", f"{sub}-data_roaming"]
    assert response.headers["X-Total-Count"] == "4"
    for bucket in buckets:
        assert CHECKED <= bucket.keys()
        assert (bucket["@type"], bucket["@baseType"], bucket["status"]) == ("BundleBucket", "Bucket", "active")
        assert bucket["product"][0]["id"] == sub and bucket["partyAccount"]["id"] == customer
        assert bucket["validFor"]["startDateTime"] < bucket["validFor"]["endDateTime"]
    data, voice, sms, roaming = buckets
    assert (data["usageType"], data["remainingValue"], data["totalValue"], data["remainingValueName"]) == (
        "data", {"amount": 30720, "units": "MB"}, {"amount": 30720, "units": "MB"}, "30 GB")
    assert data["consumedValue"] == {"amount": 0, "units": "MB"} and data["unlimited"] is False
    for unlimited in (voice, sms):
        assert unlimited["unlimited"] is True and unlimited["remainingValueName"] == "unlimited"
        assert "remainingValue" not in unlimited and "totalValue" not in unlimited
    assert (voice["usageType"], sms["usageType"]) == ("voice", "sms")
    assert (roaming["usageType"], roaming["allowanceType"], roaming["remainingValue"]["amount"]) == (
        "data", "data_roaming", 500)
    item = await seeded_api.get(f"{BUCKETS}/{sub}-data_roaming")
    assert item.status_code == 200 and item.json() == roaming


async def test_buckets_follow_balance_changes_and_the_line_state(seeded_api, seeded_db):
    _, sub = await active_line(seeded_api)
    await sql(seeded_db, "UPDATE subscription.bundle_balance SET consumed = 12800, updated_at = now() + interval"
                         " '1 minute' WHERE subscription_id = :s AND allowance_type = 'data'", s=sub)
    await sql(seeded_db, "UPDATE subscription.bundle_balance SET consumed = 330 WHERE subscription_id = :s"
                         " AND allowance_type = 'voice'", s=sub)
    before = (await seeded_api.get(f"{BUCKETS}/{sub}-voice")).json()
    data = (await seeded_api.get(f"{BUCKETS}/{sub}-data")).json()
    assert (data["remainingValue"]["amount"], data["consumedValue"]["amount"], data["remainingValueName"]) == (
        17920, 12800, "17.5 GB")
    assert data["confirmationDate"] > before["confirmationDate"]
    assert before["consumedValue"] == {"amount": 330, "units": "s"} and before["unlimited"] is True
    await sql(seeded_db, "UPDATE subscription.bundle_balance SET consumed = total WHERE subscription_id = :s"
                         " AND allowance_type = 'data'", s=sub)
    await sql(seeded_db, "UPDATE subscription.subscription SET state = 'blocked', blocked_reason = 'data_exhausted'"
                         " WHERE id = :s", s=sub)
    data = (await seeded_api.get(f"{BUCKETS}/{sub}-data")).json()
    assert (data["remainingValue"]["amount"], data["remainingValueName"], data["status"]) == (0, "0 MB", "suspended")
    await sql(seeded_db, "UPDATE subscription.subscription SET state = 'terminated' WHERE id = :s", s=sub)
    assert {b["status"] for b in (await seeded_api.get(BUCKETS, params={"product.id": sub})).json()} == {"expired"}


async def test_list_filters_and_paging(seeded_api, seeded_db):
    customer, sub = await active_line(seeded_api, offering_id="PLAN_S")
    data = await seeded_api.get(BUCKETS, params={"product.id": sub, "usageType": "data"})
    assert [b["id"] for b in data.json()] == [f"{sub}-data", f"{sub}-data_roaming"]
    voice = await seeded_api.get(BUCKETS, params={"relatedParty.id": customer, "usageType": "voice"})
    (only,) = voice.json()
    assert (only["id"], only["remainingValue"], only["remainingValueName"]) == (
        f"{sub}-voice", {"amount": 6000, "units": "s"}, "100 min")
    assert (await seeded_api.get(BUCKETS, params={"product.id": sub, "usageType": "monetary"})).json() == []
    page = await seeded_api.get(BUCKETS, params={"partyAccount.id": customer, "offset": 1, "limit": 2})
    assert [b["id"] for b in page.json()] == [f"{sub}-voice", f"{sub}-sms"]
    assert (page.headers["X-Total-Count"], page.headers["X-Result-Count"]) == ("4", "2")
    by_id = await seeded_api.get(BUCKETS, params={"id": f"{sub}-sms,{sub}-data"})
    assert [b["id"] for b in by_id.json()] == [f"{sub}-data", f"{sub}-sms"]


async def test_unknown_buckets_are_404_and_malformed_filters_400(seeded_api):
    for ident in ("SUB-999999-data", "SUB-999999-minutes", "nonsense"):
        missing = await seeded_api.get(f"{BUCKETS}/{ident}")
        assert missing.status_code == 404 and missing.json()["code"] == "bucket.not_found", ident
    assert (await seeded_api.get(BUCKETS, params={"allowanceType": "data"})).json() == []  # TMF630: not a Bucket attribute
    for params in ({"usageType": "bytes"}, {"allowance Type": "data"}, {"limit": "x"}):
        bad = await seeded_api.get(BUCKETS, params=params)
        assert bad.status_code == 400 and bad.json()["code"] == "request.malformed", params
