"""TMF639 eSIM profiles as resources (#17 item 3): added one by one through POST, moved by hand through PATCH.

Every body under /tmf-api/ is validated against the TMF639 `Resource` definition by the client fixture;
every refusal must leave the pools and the audit log as they were.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import text

from activities.inventory import assign_resources, reserve_esim, reserve_msisdn
from core.settings import REPO_ROOT, get_settings

RESOURCE = "/tmf-api/resourceInventoryManagement/v4/resource"
ICCID = "8965010000000700001"
SPEC = {"id": "ESimProfile", "name": "ESimProfile", "version": "1.0", "@referredType": "ResourceSpecification"}


def profile(iccid: str = ICCID, n: int = 1, **extra: Any) -> dict[str, Any]:
    """A TMF639 create body of one eSIM profile."""
    chars = [{"name": "imsi", "value": f"5250199{n:08d}"}, {"name": "matchingId", "value": f"VEND-{n:06d}"},
             {"name": "kiRef", "value": f"hsm://batch-9/{n}"}]
    return {"@type": "ESimProfile", "name": iccid, "resourceCharacteristic": chars, **extra}


def chars_of(body: dict) -> dict[str, Any]:
    return {c["name"]: c["value"] for c in body["resourceCharacteristic"]}


async def snapshot(db) -> tuple:
    out = []
    async with db.connect() as conn:
        for sql in ("SELECT * FROM inventory.msisdn ORDER BY number",
                    "SELECT * FROM inventory.esim_profile ORDER BY iccid", "SELECT count(*) FROM audit.domain_event"):
            out.append([tuple(r) for r in await conn.execute(text(sql))])
    return tuple(out)


async def assert_refused(api, db, method: str, path: str, status: int, code: str, **kwargs) -> dict:
    """A request that must fail with `status`/`code` and change nothing."""
    before = await snapshot(db)
    response = await api.request(method, path, **kwargs)
    assert (response.status_code, response.json().get("code")) == (status, code), response.text
    assert await snapshot(db) == before
    return response.json()


async def events(db, ident: str) -> list[tuple[str, Any]]:
    async with db.connect() as conn:
        rows = await conn.execute(text("SELECT event_type, payload FROM audit.domain_event WHERE aggregate_id = :i"
                                       " ORDER BY id"), {"i": ident})
        return [(r.event_type, r.payload) for r in rows]


async def test_a_profile_posted_to_tmf639_joins_the_pool_and_lists_like_the_seeded_ones(seeded_api, seeded_db):
    created = await seeded_api.post(RESOURCE, json=profile())
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["id"], body["name"], body["@type"], body["@baseType"]) == (ICCID, ICCID, "ESimProfile",
                                                                          "LogicalResource")
    assert (body["resourceStatus"], body["administrativeState"], body["usageState"]) == ("available", "unlocked",
                                                                                       "idle")
    assert body["resourceSpecification"] == SPEC
    chars = chars_of(body)
    assert (chars["state"], chars["imsi"], chars["smdpAddress"]) == ("available", "525019900000001",
                                                                     "smdp.bss-cli.local")
    assert "matchingId" not in chars and "activationCode" not in chars  # the download secret stays hidden
    assert (await seeded_api.get(f"{RESOURCE}/{ICCID}")).json() == body
    listed = await seeded_api.get(RESOURCE, params={"@type": "ESimProfile", "resourceStatus": "available",
                                                    "limit": 1, "offset": 1000})
    assert listed.headers["X-Total-Count"] == "1001" and listed.json() == [body]  # ICCID order: 8910… then 8965…
    by_spec = await seeded_api.get(RESOURCE, params={"resourceSpecification.id": "ESimProfile", "limit": 1})
    assert by_spec.headers["X-Total-Count"] == "1001" and by_spec.json()[0]["@type"] == "ESimProfile"
    numbers = await seeded_api.get(RESOURCE, params={"resourceSpecification.name": "MSISDN", "limit": 1})
    assert numbers.headers["X-Total-Count"] == "1000" and numbers.json()[0]["@type"] == "MSISDN"
    assert (await seeded_api.get(RESOURCE, params={"resourceSpecification.id": "PhysicalSim"})).json() == []
    assert await events(seeded_db, ICCID) == [("inventory.esim.added", {"imsi": "525019900000001"})]

    # Without @type the name says which pool; the specification may say it too.
    bare = profile("8965010000000700002", 2)
    del bare["@type"]
    assert (await seeded_api.post(RESOURCE, json=bare)).json()["@type"] == "ESimProfile"
    by_ref = profile("8965010000000700003", 3, resourceSpecification={"name": "ESimProfile"})
    by_ref["@type"] = "LogicalResource"
    third = await seeded_api.post(RESOURCE, json={**by_ref, "resourceCharacteristic": [
        *by_ref["resourceCharacteristic"], {"name": "smdpAddress", "value": "smdp.vendor.example"}]})
    assert third.status_code == 201 and chars_of(third.json())["smdpAddress"] == "smdp.vendor.example"
    await assert_refused(seeded_api, seeded_db, "POST", RESOURCE, 409, "inventory.esim.already_exists",
                         json=profile())
    same_imsi = profile("8965010000000700009", 1)  # a new ICCID, but the IMSI and matching id are taken
    await assert_refused(seeded_api, seeded_db, "POST", RESOURCE, 409, "inventory.esim.already_exists",
                         json=same_imsi)


def _without(body: dict, name: str) -> dict:
    return {**body, "resourceCharacteristic": [c for c in body["resourceCharacteristic"] if c["name"] != name]}


def _with_char(body: dict, name: str, value: Any) -> dict:
    return {**body, "resourceCharacteristic": [*_without(body, name)["resourceCharacteristic"],
                                               {"name": name, "value": value}]}


REFUSALS = [
    ({"name": "SIM-GOLD-1"}, "inventory.resource.name_invalid"),
    ({"@type": "SimCard", "name": ICCID}, "inventory.resource.type_known"),
    ({"name": "91234567", "resourceSpecification": {"id": "PhysicalSim"}, "@type": "PhysicalSim"},
     "inventory.resource.type_known"),
    ({"id": "91234568", "href": "x", "name": "91234567"}, "inventory.resource.id_not_name"),
    ({"name": "91234567", "resourceStatus": "reserved"}, "inventory.resource.created_available"),
    ({"name": "91234567", "administrativeState": "locked"}, "inventory.resource.created_available"),
    (profile(resourceCharacteristic=[{"name": "state", "value": "activated"}]), "inventory.resource.created_available"),
    ({"name": "91234567", "note": [{"text": "from a partner"}]}, "inventory.resource.attribute_not_kept"),
    ({"@type": "MSISDN", "name": "12-34"}, "inventory.msisdn.number_invalid"),
    ({"name": "91234567", "resourceCharacteristic": [{"name": "imsi", "value": "1"}]},
     "inventory.resource.characteristic_unknown"),
    ({"@type": "ESimProfile", "name": ICCID}, "inventory.esim.profile_incomplete"),
    (_without(profile(), "kiRef"), "inventory.esim.profile_incomplete"),
    (_with_char(profile(), "colour", "gold"), "inventory.esim.profile_incomplete"),
    (_with_char(profile(), "imsi", "123"), "inventory.esim.profile_invalid"),
    (_with_char(profile(), "imsi", 525010000000001), "inventory.esim.profile_invalid"),
    (_with_char(profile(), "iccid", "8965010000000700099"), "inventory.esim.profile_invalid"),
    (profile("89-not-an-iccid"), "inventory.esim.profile_invalid"),
]


async def test_a_create_body_the_spec_accepts_is_refused_with_a_rule_code_not_400(seeded_api, seeded_db):
    for body, code in REFUSALS:  # one database for all: each refusal must leave it as it was anyway
        refused = await assert_refused(seeded_api, seeded_db, "POST", RESOURCE, 422, code, json=body)
        assert refused["message"], code


def _smallest(schema: dict, definitions: dict) -> Any:
    """The smallest value the spec accepts for a property."""
    if "$ref" in schema:
        target = definitions[schema["$ref"].rsplit("/", 1)[-1]]
        return target["enum"][0] if "enum" in target else {k: "x" for k in target.get("required", [])}
    if schema.get("type") == "array":
        return []
    return "2026-01-01T00:00:00Z" if schema.get("format") == "date-time" else "x"


def test_every_optional_resource_create_attribute_is_probed():
    assert set(_optional()) >= {"note", "place", "resourceRelationship", "usageState", "resourceSpecification"}


def _optional() -> dict[str, Any]:
    spec = json.loads((get_settings().tmf_specs_dir / "TMF639-ResourceInventory-v4.0.0.swagger.json").read_text())
    create = spec["definitions"]["Resource_Create"]
    return {name: _smallest(prop, spec["definitions"]) for name, prop in create["properties"].items()
            if name != "name"}


async def test_each_optional_create_attribute_alone_is_kept_or_refused_with_a_documented_code(seeded_api):
    codes = set(re.findall(r"^\| `([^`]+)` \|", (REPO_ROOT / "docs" / "RULE_CODES.md").read_text(), re.MULTILINE))
    outcomes = {}
    for n, (name, value) in enumerate(sorted(_optional().items())):
        number = f"9120{n:04d}"
        response = await seeded_api.post(RESOURCE, json={"name": number, name: value})
        assert response.status_code in (201, 422), (name, response.text)
        if response.status_code == 422:
            assert response.json()["code"] in codes, (name, response.json())
        outcomes[name] = response.json().get("code", response.status_code)
    assert outcomes["category"] == outcomes["description"] == outcomes["resourceSpecification"] == 201
    assert outcomes["usageState"] == 201  # `idle`, the first enum value, is what a new unit is
    assert outcomes["administrativeState"] == outcomes["resourceStatus"] == "inventory.resource.created_available"
    assert outcomes["note"] == outcomes["place"] == "inventory.resource.attribute_not_kept"
    assert outcomes["@type"] == "inventory.resource.type_known"


async def test_an_operator_releases_a_reservation_only_once_its_order_is_over(seeded_api, seeded_db):
    stale = await reserve_esim("ORD-GONE")  # an order that no longer exists left it reserved
    released = await seeded_api.patch(f"{RESOURCE}/{stale.iccid}", json={
        "resourceStatus": "available", "note": [{"text": "left over by a purged order"}]})
    assert released.status_code == 200, released.text
    assert (released.json()["resourceStatus"], "reservedFor" in chars_of(released.json())) == ("available", False)
    assert (await events(seeded_db, stale.iccid))[-1] == ("inventory.esim.released", {
        "from": "reserved", "to": "available", "note": "left over by a purged order"})

    async with seeded_db.begin() as conn:
        await conn.execute(text(
            "INSERT INTO ordering.product_order (id, customer_id, offering_id, offering_price_id, price_minor,"
            " currency, state, channel, order_date) VALUES ('ORD-LIVE', 'CUST-1', 'PLAN_M', 'P', 1500, 'SGD',"
            " 'in_progress', 'cli', now())"))
    held = await reserve_esim("ORD-LIVE")
    number = await reserve_msisdn("ORD-LIVE")
    refused = await assert_refused(seeded_api, seeded_db, "PATCH", f"{RESOURCE}/{held.iccid}", 422,
                                   "inventory.esim.held_by_live_order", json={"resourceStatus": "available"})
    assert refused["context"]["order_state"] == "in_progress"
    await assert_refused(seeded_api, seeded_db, "PATCH", f"{RESOURCE}/{number}", 422,
                         "inventory.msisdn.held_by_live_order", json={"resourceStatus": "available"})
    async with seeded_db.begin() as conn:
        await conn.execute(text("UPDATE ordering.product_order SET state = 'failed', failure_reason = 'declined'"
                                " WHERE id = 'ORD-LIVE'"))
    assert (await seeded_api.patch(f"{RESOURCE}/{held.iccid}", json={"resourceStatus": "available"})).status_code == 200


async def _live_line(db, order_id: str, subscription_id: str, state: str) -> tuple[str, str]:
    number, profile_ = await reserve_msisdn(order_id), await reserve_esim(order_id)
    await assign_resources(order_id, subscription_id)
    async with db.begin() as conn:
        await conn.execute(text(
            "INSERT INTO subscription.subscription (id, customer_id, order_id, offering_id, msisdn, iccid, state,"
            " price_minor) VALUES (:s, 'CUST-1', :o, 'PLAN_M', :m, :i, :state, 1500)"),
            {"s": subscription_id, "o": order_id, "m": number, "i": profile_.iccid, "state": state})
    return number, profile_.iccid


@pytest.mark.parametrize("state", ["active", "blocked"])
async def test_a_unit_of_a_live_line_is_not_moved_by_hand(seeded_api, seeded_db, state):
    number, iccid = await _live_line(seeded_db, "ORD-L", "SUB-L", state)
    for move in ({"resourceStatus": "suspended"}, {"resourceCharacteristic": [{"name": "state", "value": "recycled"}]}):
        body = await assert_refused(seeded_api, seeded_db, "PATCH", f"{RESOURCE}/{iccid}", 422,
                                    "inventory.esim.on_live_line", json=move)
        assert body["context"]["subscription_id"] == "SUB-L"
    await assert_refused(seeded_api, seeded_db, "PATCH", f"{RESOURCE}/{number}", 422, "inventory.msisdn.on_live_line",
                         json={"resourceStatus": "standby"})
    # Illegal edges stay illegal whatever the line: an active profile never returns to the pool.
    await assert_refused(seeded_api, seeded_db, "PATCH", f"{RESOURCE}/{iccid}", 422,
                         "esim_profile.transition.invalid", json={"resourceStatus": "available"})
    async with seeded_db.begin() as conn:
        await conn.execute(text("UPDATE subscription.subscription SET state = 'terminated' WHERE id = 'SUB-L'"))
    recycled = await seeded_api.patch(f"{RESOURCE}/{iccid}", json={
        "resourceCharacteristic": [{"name": "state", "value": "recycled"}]})
    assert recycled.status_code == 200 and recycled.json()["resourceStatus"] == "unknown"


async def test_bss_inventory_esim_add_posts_one_profile(seeded_api, seeded_db, bss):
    added = await bss("inventory", "esim", "add", ICCID, "--imsi", "525019900000001", "--matching-id", "VEND-000001",
                      "--ki-ref", "hsm://batch-9/1", "--json")
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["resourceSpecification"] == SPEC
    card = await bss("inventory", "esim", "show", ICCID)
    assert card.exit_code == 0 and "available" in card.stdout, card.output
    again = await bss("inventory", "esim", "add", ICCID, "--imsi", "525019900000002", "--matching-id", "VEND-2",
                      "--ki-ref", "hsm://x")
    assert again.exit_code == 2 and "inventory.esim.already_exists" in again.output
