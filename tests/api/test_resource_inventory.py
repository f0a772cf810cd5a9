"""TMF639 resource inventory over real HTTP: MSISDNs and eSIM profiles listed, shown, added and moved by hand.

Every body under /tmf-api/ is validated against the TMF639 `Resource` definition by the client fixture.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from activities.inventory import assign_resources, reserve_esim, reserve_msisdn
from core import clock
from domain.reference_data import iccid as iccid_of

RESOURCE = "/tmf-api/resourceInventoryManagement/v4/resource"
RANGE = "/inventory-api/v1/msisdn/range"
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


async def snapshot(db) -> tuple:
    """All inventory rows and the audit count: a refusal must leave them as they were."""
    async with db.connect() as conn:
        out = []
        for sql in ("SELECT * FROM inventory.msisdn ORDER BY number", "SELECT * FROM inventory.esim_profile ORDER BY iccid",
                    "SELECT * FROM inventory.msisdn_range ORDER BY id", "SELECT count(*) FROM audit.domain_event"):
            out.append([tuple(r) for r in await conn.execute(text(sql))])
        return tuple(out)


async def assert_refused(api, db, method: str, path: str, status: int, code: str, **kwargs) -> dict:
    """Send a request that must fail with `status`/`code` and change nothing."""
    before = await snapshot(db)
    response = await api.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert await snapshot(db) == before
    return body


def characteristic(body: dict, name: str):
    return next((c["value"] for c in body["resourceCharacteristic"] if c["name"] == name), None)


async def line(order_id: str, subscription_id: str) -> tuple[str, str]:
    number, profile = await reserve_msisdn(order_id), await reserve_esim(order_id)
    await assign_resources(order_id, subscription_id)
    return number, profile.iccid


async def test_list_msisdns_with_paging_counts_and_fields(seeded_api):
    response = await seeded_api.get(RESOURCE, params={"@type": "MSISDN", "limit": 5, "offset": 10})
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "1000" and response.headers["X-Result-Count"] == "5"
    items = response.json()
    assert [i["id"] for i in items] == [str(90000010 + i) for i in range(5)]
    first = items[0]
    assert {"@type", "href", "id", "name"} <= set(first) and first["@type"] == "MSISDN"
    assert first["name"] == first["id"] and first["href"].endswith(f"{RESOURCE}/90000010")
    assert first["resourceStatus"] == "available" and characteristic(first, "state") == "available"
    slim = (await seeded_api.get(RESOURCE, params={"@type": "MSISDN", "fields": "resourceStatus", "limit": 1})).json()
    assert set(slim[0]) == {"id", "href", "@type", "resourceStatus"}


async def test_list_without_type_pages_across_numbers_then_profiles(seeded_api):
    response = await seeded_api.get(RESOURCE, params={"offset": 998, "limit": 4})
    assert response.headers["X-Total-Count"] == "2000"
    assert [i["@type"] for i in response.json()] == ["MSISDN", "MSISDN", "ESimProfile", "ESimProfile"]


async def test_filters_by_status_state_and_name(seeded_api):
    number, iccid = await line("ORD-1", "SUB-1")
    reserved = await reserve_msisdn("ORD-2")
    by_status = await seeded_api.get(RESOURCE, params={"@type": "MSISDN", "resourceStatus": "reserved"})
    assert by_status.headers["X-Total-Count"] == "2"
    assert {(i["id"], characteristic(i, "state"), i["usageState"]) for i in by_status.json()} == {
        (number, "assigned", "active"), (reserved, "reserved", "idle")}
    by_state = (await seeded_api.get(RESOURCE, params={"state": "activated"})).json()
    assert [i["id"] for i in by_state] == [iccid]
    assert by_state[0]["resourceRelationship"][0]["resource"]["id"] == number
    named = (await seeded_api.get(RESOURCE, params={"name": number})).json()
    assert [(i["id"], characteristic(i, "assignedTo")) for i in named] == [(number, "SUB-1")]
    assert (await seeded_api.get(RESOURCE, params={"@type": "ESimProfile", "name": number})).json() == []


async def test_show_profile_reveals_the_activation_code_only_once_reserved(seeded_api):
    free = (await seeded_api.get(RESOURCE, params={"@type": "ESimProfile", "limit": 1, "offset": 500})).json()[0]
    shown = (await seeded_api.get(f"{RESOURCE}/{free['id']}")).json()
    assert characteristic(shown, "activationCode") is None and characteristic(shown, "matchingId") is None
    assert characteristic(shown, "imsi").startswith("525010000")
    profile = await reserve_esim("ORD-1")
    body = (await seeded_api.get(f"{RESOURCE}/{profile.iccid}")).json()
    assert body["@type"] == "ESimProfile" and body["name"] == profile.iccid and body["resourceStatus"] == "reserved"
    assert characteristic(body, "activationCode") == profile.activation_code
    assert characteristic(body, "reservedFor") == "ORD-1"


async def test_unknown_ids_are_404(seeded_api, seeded_db):
    body = await assert_refused(seeded_api, seeded_db, "GET", f"{RESOURCE}/12345", 404, "resource.not_found")
    assert body["@type"] == "Error"
    await assert_refused(seeded_api, seeded_db, "PATCH", f"{RESOURCE}/12345", 404, "resource.not_found",
                         json={"resourceStatus": "available"})


@pytest.mark.parametrize("params", [{"col our": "red"}, {"@type": "SIM"}, {"state": "lost"},
                                    {"@type": "MSISDN", "state": "activated"}, {"resourceStatus": "busy"},
                                    {"limit": "0"}, {"offset": "-1"}])
async def test_bad_list_queries_are_400(seeded_api, seeded_db, params):
    await assert_refused(seeded_api, seeded_db, "GET", RESOURCE, 400, "request.malformed", params=params)


async def test_post_adds_one_number(seeded_api, seeded_db):
    response = await seeded_api.post(RESOURCE, json={"@type": "MSISDN", "name": "91234567"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["id"], body["name"], body["@type"], body["resourceStatus"]) == ("91234567", "91234567", "MSISDN",
                                                                               "available")
    assert (await seeded_api.get(f"{RESOURCE}/91234567")).json()["id"] == "91234567"
    assert (await seeded_api.post(RESOURCE, json={"name": "91234568"})).status_code == 201  # @type defaults
    await assert_refused(seeded_api, seeded_db, "POST", RESOURCE, 409, "inventory.msisdn.already_exists",
                         json={"@type": "MSISDN", "name": "91234567"})


# Bodies the spec's schema accepts but we cannot keep are 422s with a rule code: tests/api/test_esim_resources.py.
@pytest.mark.parametrize("body", [{"@type": "MSISDN"}, {"name": 91234567}, {"name": "91234567", "colour": "gold"},
                                  {"name": "91234567", "resourceStatus": "lost"}])
async def test_bad_posts_are_400(seeded_api, seeded_db, body):
    await assert_refused(seeded_api, seeded_db, "POST", RESOURCE, 400, "request.malformed", json=body)


async def test_patch_quarantines_recycles_and_ports_out_numbers(seeded_api, seeded_db):
    number, _ = await line("ORD-1", "SUB-1")
    with clock.frozen(T0):
        response = await seeded_api.patch(f"{RESOURCE}/{number}", json={
            "resourceStatus": "standby", "note": [{"text": "fraud hold"}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resourceStatus"] == "standby" and characteristic(body, "state") == "quarantine"
    assert characteristic(body, "quarantineUntil") == "2026-05-30T09:00:00Z"
    again = await seeded_api.patch(f"{RESOURCE}/{number}", json={"resourceStatus": "standby"})
    assert again.status_code == 200  # already there: no second move
    recycled = (await seeded_api.patch(f"{RESOURCE}/{number}", json={"resourceStatus": "available"})).json()
    assert characteristic(recycled, "state") == "available" and characteristic(recycled, "assignedTo") is None
    async with seeded_db.connect() as conn:
        notes = (await conn.execute(text("SELECT event_type, payload->>'note' FROM audit.domain_event"
                                         " WHERE aggregate_id = :n ORDER BY id"), {"n": number})).all()
    assert [tuple(n) for n in notes][-2:] == [("inventory.msisdn.quarantined", "fraud hold"),
                                             ("inventory.msisdn.recycled", None)]
    other, _ = await line("ORD-2", "SUB-2")  # the recycled number is the lowest free one again
    assert other == number
    ported = await seeded_api.patch(f"{RESOURCE}/{other}", json={
        "resourceCharacteristic": [{"name": "state", "value": "ported_out"}]})
    assert ported.status_code == 200 and ported.json()["resourceStatus"] == "unknown"
    for move in ({"resourceStatus": "available"}, {"resourceCharacteristic": [{"name": "state", "value": "quarantine"}]}):
        await assert_refused(seeded_api, seeded_db, "PATCH", f"{RESOURCE}/{other}", 422,
                             "inventory.msisdn.ported_out_is_terminal", json=move)


@pytest.mark.parametrize("move, code", [
    ({"resourceStatus": "standby"}, "msisdn.transition.invalid"),       # available → quarantine is not an edge
    ({"resourceStatus": "reserved"}, "msisdn.transition.invalid"),      # reserving is the order flow's job
    ({"resourceStatus": "alarm"}, "msisdn.transition.invalid"),
    ({"resourceCharacteristic": [{"name": "state", "value": "assigned"}]}, "msisdn.transition.invalid"),
])
async def test_invalid_number_moves_are_422(seeded_api, seeded_db, move, code):
    body = await assert_refused(seeded_api, seeded_db, "PATCH", f"{RESOURCE}/90000003", 422, code, json=move)
    assert body["context"]["from"] == "available"


@pytest.mark.parametrize("move", [
    {"resourceCharacteristic": [{"name": "imsi", "value": "1"}]}, {"@type": "ESimProfile", "resourceStatus": "available"},
    {"resourceStatus": "available", "resourceCharacteristic": [{"name": "state", "value": "quarantine"}]},
    {"resourceStatus": "busy"}, {"name": "renamed"},
])
async def test_malformed_patches_are_400(seeded_api, seeded_db, move):
    await assert_refused(seeded_api, seeded_db, "PATCH", f"{RESOURCE}/90000003", 400, "request.malformed", json=move)


async def test_patch_suspends_and_resumes_a_profile(seeded_api, seeded_db):
    _, iccid = await line("ORD-1", "SUB-1")
    suspended = await seeded_api.patch(f"{RESOURCE}/{iccid}", json={"resourceStatus": "suspended"})
    assert suspended.status_code == 200 and suspended.json()["resourceStatus"] == "suspended"
    resumed = await seeded_api.patch(f"{RESOURCE}/{iccid}", json={
        "@type": "ESimProfile", "resourceCharacteristic": [{"name": "state", "value": "activated"}]})
    assert characteristic(resumed.json(), "state") == "activated"
    free = iccid_of(999)  # a seeded profile nobody holds
    assert (await seeded_api.get(f"{RESOURCE}/{free}")).status_code == 200
    await assert_refused(seeded_api, seeded_db, "PATCH", f"{RESOURCE}/{free}", 422, "esim_profile.transition.invalid",
                         json={"resourceStatus": "suspended"})


async def test_add_range_then_repeat_then_refusals(seeded_api, seeded_db):
    created = await seeded_api.post(RANGE, json={"first": "90000990", "last": "90001009"})
    assert created.status_code == 201, created.text
    assert created.json() == {"rangeId": "MR-90000990-90001009", "first": "90000990", "last": "90001009",
                              "size": 20, "added": 10, "skipped": 10, "repeated": False}
    before = await snapshot(seeded_db)
    repeat = await seeded_api.post(RANGE, json={"first": "90000990", "last": "90001009"})
    assert repeat.status_code == 200 and repeat.json()["added"] == 0 and repeat.json()["repeated"] is True
    assert await snapshot(seeded_db) == before
    total = await seeded_api.get(RESOURCE, params={"@type": "MSISDN", "limit": 1})
    assert total.headers["X-Total-Count"] == "1010"
    await assert_refused(seeded_api, seeded_db, "POST", RANGE, 422, "inventory.msisdn.range_too_large",
                         json={"first": "91000000", "last": "92000000"})
    await assert_refused(seeded_api, seeded_db, "POST", RANGE, 422, "inventory.msisdn.range_invalid",
                         json={"first": "90002000", "last": "90001000"})
    await assert_refused(seeded_api, seeded_db, "POST", RANGE, 400, "request.malformed",
                         json={"first": "90002000", "last": "90002001", "size": 2})


async def test_summary_counts_each_pool(seeded_api):
    await line("ORD-1", "SUB-1")
    await reserve_msisdn("ORD-2")
    summary = (await seeded_api.get("/inventory-api/v1/summary")).json()
    assert summary["msisdn"]["total"] == 1000 and summary["msisdn"]["byState"]["available"] == 998
    assert summary["msisdn"]["byState"]["assigned"] == 1 and summary["msisdn"]["low"] is False
    assert summary["esim"]["byState"]["activated"] == 1 and summary["esim"]["lowWatermark"] == 100


ESIM_BATCH = "/inventory-api/v1/esim/batch"


def _profile(n: int, **extra: str) -> dict:
    return {"iccid": f"8965010000000{n:06d}", "imsi": f"52501{n:010d}", "matchingId": f"VEND-{n:06d}",
            "kiRef": f"hsm://batch/{n}", **extra}


async def test_an_esim_batch_adds_new_profiles_and_skips_known_ones(seeded_api, seeded_db):
    known = iccid_of(0)  # a seeded profile: skipped whole, whatever else its row says
    body = {"profiles": [_profile(800001), _profile(800002, smdpAddress="smdp.vendor.example"),
                         {**_profile(800003), "iccid": known}]}
    response = await seeded_api.post(ESIM_BATCH, json=body)
    assert response.status_code == 201, response.text
    assert response.json() == {"size": 3, "added": 2, "skipped": 1}
    shown = (await seeded_api.get(f"{RESOURCE}/8965010000000800002")).json()
    assert shown["resourceStatus"] == "available"
    async with seeded_db.connect() as conn:
        smdp = (await conn.execute(text("SELECT smdp_address FROM inventory.esim_profile WHERE iccid = :i"),
                                   {"i": "8965010000000800002"})).scalar_one()
    assert smdp == "smdp.vendor.example"


@pytest.mark.parametrize("profiles", [[], [{"iccid": "123", "imsi": "1", "matchingId": "x", "kiRef": "k"}],
                                      [{"iccid": "8965010000000800009", "imsi": "525010000800009",
                                        "matchingId": "VEND-9", "kiRef": "k", "ki": "secret"}]])
async def test_malformed_esim_batches_are_400_and_add_nothing(seeded_api, seeded_db, profiles):
    async with seeded_db.connect() as conn:
        before = (await conn.execute(text("SELECT count(*) FROM inventory.esim_profile"))).scalar_one()
    response = await seeded_api.post(ESIM_BATCH, json={"profiles": profiles})
    assert response.status_code == 400, response.text
    async with seeded_db.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM inventory.esim_profile"))).scalar_one() == before
