"""`bss inventory …` through the real API, and the inventory cards against snapshots."""

from __future__ import annotations

import json

from sqlalchemy import text

from activities.inventory import assign_resources, reserve_esim, reserve_msisdn
from cli.render.inventory import esim_card, msisdn_card, range_result
from tests.support.snapshots import assert_snapshot, render_text

ESIM = {
    "id": "8910101000000000073", "href": "http://api/tmf-api/resourceInventoryManagement/v4/resource/8910101000000000073",
    "@type": "ESimProfile", "@baseType": "LogicalResource", "name": "8910101000000000073", "category": "ESimProfile",
    "resourceStatus": "reserved", "usageState": "active", "administrativeState": "unlocked",
    "startOperatingDate": "2026-01-01T00:00:00Z",
    "resourceCharacteristic": [
        {"name": "state", "value": "activated"}, {"name": "iccid", "value": "8910101000000000073"},
        {"name": "imsi", "value": "525010000000007"}, {"name": "smdpAddress", "value": "smdp.bss-cli.local"},
        {"name": "matchingId", "value": "ABCDE-FGHIJ-KLMNO-PQRST"},
        {"name": "activationCode", "value": "LPA:1$smdp.bss-cli.local$ABCDE-FGHIJ-KLMNO-PQRST"},
        {"name": "reservedFor", "value": "ORD-000042"}, {"name": "assignedMsisdn", "value": "90000042"}],
}
MSISDN = {
    "id": "90000042", "@type": "MSISDN", "name": "90000042", "resourceStatus": "standby",
    "startOperatingDate": "2026-01-01T00:00:00Z",
    "resourceCharacteristic": [{"name": "state", "value": "quarantine"}, {"name": "reservedFor", "value": "ORD-000042"},
                               {"name": "assignedTo", "value": "SUB-000007"}, {"name": "rangeId", "value": "MR-90000000-90000999"},
                               {"name": "quarantineUntil", "value": "2026-05-30T09:00:00Z"}],
}


def test_esim_card_masks_iccid_imsi_and_the_matching_id():
    assert_snapshot("inventory_esim_card", esim_card(ESIM))
    shown = render_text(esim_card(ESIM))
    for secret in ("8910101000000000073", "525010000000007", "ABCDE-FGHIJ-KLMNO-PQRST"):
        assert secret not in shown
    assert "0073" in shown and "0007" in shown and "smdp.bss-cli.local" in shown and "90000042" in shown


def test_msisdn_and_range_cards():
    assert_snapshot("inventory_msisdn_card", msisdn_card(MSISDN))
    assert_snapshot("inventory_range_card", range_result({
        "rangeId": "MR-90001000-90001999", "first": "90001000", "last": "90001999", "size": 1000, "added": 990,
        "skipped": 10, "repeated": False}))


async def run_json(bss, *args: str):
    result = await bss(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_msisdn_list_and_show(seeded_api, bss):
    number = await reserve_msisdn("ORD-1")
    listed = await run_json(bss, "inventory", "msisdn", "list", "--state", "reserved")
    assert [i["id"] for i in listed] == [number]
    assert len(await run_json(bss, "inventory", "msisdn", "list", "--limit", "3")) == 3
    table = await bss("inventory", "msisdn", "list", "--limit", "5")
    assert table.exit_code == 0, table.output
    assert "999 of 1,000 numbers available" in table.stdout and "90000004" in table.stdout
    assert "ORD-1" in table.stdout
    shown = await bss("inventory", "msisdn", "show", number)
    assert shown.exit_code == 0 and f"MSISDN {number}" in shown.stdout and "ORD-1" in shown.stdout
    body = await run_json(bss, "inventory", "msisdn", "show", number)
    assert body["id"] == number and body["resourceStatus"] == "reserved"


async def test_unknown_number_and_bad_state_are_refused(seeded_api, bss):
    missing = await bss("inventory", "msisdn", "show", "12345678")
    assert missing.exit_code == 2 and "resource.not_found" in missing.output
    as_json = await bss("inventory", "msisdn", "show", "12345678", "--json")
    assert as_json.exit_code == 2 and json.loads(as_json.stdout)["code"] == "resource.not_found"
    bad = await bss("inventory", "esim", "list", "--state", "quarantine")  # refused by the input model, no call
    assert bad.exit_code == 2 and "--state" in bad.output and "invalid input" in bad.output


async def test_esim_list_and_show_mask_by_default(seeded_api, bss):
    number = await reserve_msisdn("ORD-1")
    profile = await reserve_esim("ORD-1")
    await assign_resources("ORD-1", "SUB-1")
    listed = await run_json(bss, "inventory", "esim", "list", "--state", "activated")
    assert [i["id"] for i in listed] == [profile.iccid]
    table = await bss("inventory", "esim", "list", "--state", "activated")
    assert table.exit_code == 0 and profile.iccid in table.stdout and number in table.stdout
    card = await bss("inventory", "esim", "show", profile.iccid)
    assert card.exit_code == 0, card.output
    assert profile.iccid not in card.stdout and profile.imsi not in card.stdout
    assert profile.matching_id not in card.stdout and profile.iccid[-4:] in card.stdout
    body = await run_json(bss, "inventory", "esim", "show", profile.iccid)
    codes = {c["name"]: c["value"] for c in body["resourceCharacteristic"]}
    assert codes["imsi"] == profile.imsi and codes["activationCode"] == profile.activation_code
    wrong = await bss("inventory", "msisdn", "show", profile.iccid)
    assert wrong.exit_code == 2 and "ESimProfile" in wrong.output


async def test_add_range_confirms_then_reports_what_it_added(seeded_api, seeded_db, bss):
    declined = await bss("inventory", "msisdn", "add-range", "90001000", "90001099", input="n\n")
    assert declined.exit_code == 1 and "Add 100 numbers" in declined.output
    async with seeded_db.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM inventory.msisdn"))).scalar_one() == 1000
    added = await bss("inventory", "msisdn", "add-range", "90000990", "90001099", "--yes")
    assert added.exit_code == 0, added.output
    assert "added 100 numbers" in added.stdout and "10" in added.stdout
    repeat = await run_json(bss, "inventory", "msisdn", "add-range", "90000990", "90001099", "--yes")
    assert repeat["added"] == 0 and repeat["repeated"] is True
    again = await bss("inventory", "msisdn", "add-range", "90000990", "90001099", "--yes")
    assert "nothing to do" in again.stdout
    too_big = await bss("inventory", "msisdn", "add-range", "91000000", "92000000", "--yes")
    assert too_big.exit_code == 2 and "inventory.msisdn.range_too_large" in too_big.output
