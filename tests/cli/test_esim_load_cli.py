"""`bss inventory esim load FILE`: a vendor's batch of eSIM profiles into the pool, through the real API."""

from __future__ import annotations

import json

from sqlalchemy import text

HEADER = "iccid,imsi,matching_id,ki_ref,smdp_address\n"


def _batch(first: int, count: int) -> str:
    rows = [f"8965010000000{n:06d},52501{n:010d},VEND-{n:06d},hsm://batch-7/{n},\n" for n in range(first, first + count)]
    return HEADER + "".join(rows)


async def _available_esims(db) -> int:
    async with db.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM inventory.esim_profile WHERE state = 'available'"))
                ).scalar_one()


async def test_a_vendor_batch_is_loaded_once_and_a_repeat_skips_every_profile(seeded_api, seeded_db, bss, tmp_path):
    before = await _available_esims(seeded_db)
    batch = tmp_path / "batch.csv"
    batch.write_text(_batch(900000, 250))

    loaded = await bss("inventory", "esim", "load", str(batch), "--json")
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.stdout) == {"size": 250, "added": 250, "skipped": 0}
    assert await _available_esims(seeded_db) == before + 250
    shown = await bss("inventory", "esim", "show", "8965010000000900001", "--json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["resourceStatus"] == "available", shown.output

    again = await bss("inventory", "esim", "load", str(batch))
    assert again.exit_code == 0 and "nothing to do" in again.stdout, again.output
    assert await _available_esims(seeded_db) == before + 250
    async with seeded_db.connect() as conn:
        event = (await conn.execute(text("SELECT payload FROM audit.domain_event WHERE event_type = "
                                         "'inventory.esim.batch_added' ORDER BY id DESC LIMIT 1"))).scalar_one()
    assert (event["added"], event["size"]) == (0, 250)


async def test_a_malformed_batch_is_refused_before_any_call_and_adds_nothing(seeded_api, seeded_db, bss, tmp_path):
    before = await _available_esims(seeded_db)
    batch = tmp_path / "bad.csv"
    batch.write_text(_batch(900000, 3) + "8965010000000999999,not-an-imsi,VEND-X,hsm://x,\n")
    refused = await bss("inventory", "esim", "load", str(batch))
    assert refused.exit_code == 2 and "invalid input" in refused.output and "imsi" in refused.output
    assert await _available_esims(seeded_db) == before
