"""`bss inventory msisdn add`, `bss inventory move` and `bss inventory summary` through the real API (#14 gaps)."""

from __future__ import annotations

import json

from sqlalchemy import text

from activities.inventory import assign_resources, reserve_esim, reserve_msisdn


async def run_json(bss, *args: str):
    result = await bss(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def state_of(db, number: str) -> str | None:
    async with db.connect() as conn:
        return (await conn.execute(text("SELECT state FROM inventory.msisdn WHERE number = :n"),
                                   {"n": number})).scalar_one_or_none()


async def test_add_one_number_to_the_pool(seeded_api, seeded_db, bss):
    added = await run_json(bss, "inventory", "msisdn", "add", "90009999", "--description", "returned by a partner")
    assert (added["id"], added["resourceStatus"]) == ("90009999", "available")
    assert await state_of(seeded_db, "90009999") == "available"
    card = await bss("inventory", "msisdn", "add", "90009998")
    assert card.exit_code == 0 and "MSISDN 90009998" in card.stdout
    summary = await run_json(bss, "inventory", "summary")
    assert summary["msisdn"]["total"] == 1002 and summary["msisdn"]["byState"]["available"] == 1002
    shown = await bss("inventory", "summary")
    assert shown.exit_code == 0 and "1,002 of 1,002 numbers available" in shown.stdout and "eSIM" in shown.stdout
    bad = await bss("inventory", "msisdn", "add", "12ab")
    assert bad.exit_code == 2 and "invalid input" in bad.output


async def test_move_a_number_and_a_profile_by_hand(seeded_api, seeded_db, bss):
    number = await reserve_msisdn("ORD-1")
    profile = await reserve_esim("ORD-1")
    await assign_resources("ORD-1", "SUB-1")
    declined = await bss("inventory", "move", number, "quarantine", input="n\n")
    assert declined.exit_code == 1 and "not moved" in declined.output
    assert await state_of(seeded_db, number) == "assigned"
    moved = await bss("inventory", "move", number, "quarantine", "--note", "line closed by hand", "--yes")
    assert moved.exit_code == 0, moved.output
    assert f"MSISDN {number}" in moved.stdout and await state_of(seeded_db, number) == "quarantine"
    back = await run_json(bss, "inventory", "move", number, "available", "--yes")
    assert back["resourceStatus"] == "available"
    suspended = await run_json(bss, "inventory", "move", profile.iccid, "suspended", "--note", "lost device", "--yes")
    assert {c["name"]: c["value"] for c in suspended["resourceCharacteristic"]}["state"] == "suspended"
    refused = await bss("inventory", "move", number, "ported_out", "--yes")  # only an assigned number ports out
    assert refused.exit_code == 2 and "refused (422)" in refused.output
    assert await state_of(seeded_db, number) == "available"
    unknown = await bss("inventory", "move", number, "lost", "--yes")
    assert unknown.exit_code == 2 and "--state" in unknown.output
