"""`bss catalog prices | migrations` and `bss catalog admin update-price` through the real API (#14 gaps).

The clock is frozen at T0 (2026-03-01): the API and the CLI run in this process and see the same instant.
"""

from __future__ import annotations

import json

from tests.support.catalog_clock import frozen_clock  # noqa: F401 (autouse fixture)


async def run_json(bss, *args: str):
    result = await bss(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_prices_lists_an_offerings_versions(seeded_api, bss):
    await run_json(bss, "catalog", "admin", "set-price", "PLAN_M", "--price", "20", "--valid-from", "2026-03-10",
                   "--valid-to", "2026-04-01", "--name", "Spring promo")
    prices = await run_json(bss, "catalog", "prices", "PLAN_M")
    assert [p["id"] for p in prices] == ["POP_PLAN_M_1", "POP_PLAN_M_2"]
    table = await bss("catalog", "prices", "PLAN_M")
    assert table.exit_code == 0 and "POP_PLAN_M_2" in table.stdout and "SGD 20.00" in table.stdout
    assert await run_json(bss, "catalog", "prices", "PLAN_X") == []


async def test_update_price_renames_closes_and_reopens_a_version(seeded_api, bss):
    promo = await run_json(bss, "catalog", "admin", "set-price", "VAS_DATA_1GB", "--price", "2.50",
                           "--valid-from", "2026-03-05")
    renamed = await run_json(bss, "catalog", "admin", "update-price", promo["id"], "--name", "March data deal")
    assert renamed["name"] == "March data deal" and "endDateTime" not in renamed["validFor"]
    closed = await bss("catalog", "admin", "update-price", promo["id"], "--valid-to", "2026-03-31")
    assert closed.exit_code == 0, closed.output
    assert promo["id"] in closed.stdout and "2026-03-31" in closed.stdout
    reopened = await run_json(bss, "catalog", "admin", "update-price", promo["id"], "--open-ended")
    assert reopened["validFor"].get("endDateTime") is None
    past = await bss("catalog", "admin", "update-price", promo["id"], "--valid-to", "2026-02-01")
    assert past.exit_code == 2 and "catalog.price.window_valid" in past.output
    nothing = await bss("catalog", "admin", "update-price", promo["id"])
    assert nothing.exit_code == 2 and "say what changes" in nothing.output
    missing = await bss("catalog", "admin", "update-price", "POP_NOPE_1", "--name", "x")
    assert missing.exit_code == 2 and "product_offering_price.not_found" in missing.output


async def test_migrations_lists_scheduled_price_migrations(seeded_api, bss):
    assert await run_json(bss, "catalog", "migrations") == []
    empty = await bss("catalog", "migrations")
    assert empty.exit_code == 0 and "no price migrations" in empty.stdout
    await run_json(bss, "catalog", "admin", "migrate-price", "PLAN_M", "--price", "28", "--yes")
    await run_json(bss, "catalog", "admin", "migrate-price", "PLAN_S", "--price", "12", "--notice-days", "45", "--yes")
    listed = await run_json(bss, "catalog", "migrations")
    assert [(m["productOffering"]["id"], m["state"]) for m in listed] == [("PLAN_S", "scheduled"),
                                                                         ("PLAN_M", "scheduled")]
    only_m = await run_json(bss, "catalog", "migrations", "--offering", "PLAN_M")
    assert [m["id"] for m in only_m] == ["PMIG_PLAN_M_1"]
    cards = await bss("catalog", "migrations")
    assert cards.exit_code == 0 and "PMIG_PLAN_M_1" in cards.stdout and "PMIG_PLAN_S_1" in cards.stdout
