"""`bss catalog …` through the real API, and the catalog cards (rendered from real API answers) as snapshots.

The clock is frozen: the API and the CLI run in this process, so both see the same instant.
"""

import json

from sqlalchemy import text

from cli.render.catalog import comparison_card, offering_card, vas_table
from tests.support.catalog_clock import T0, frozen_clock  # noqa: F401 (autouse fixture)
from tests.support.snapshots import assert_snapshot, render_text

BASE = "/tmf-api/productCatalogManagement/v4"


async def catalog_rows(db) -> tuple[int, int, int, int]:
    async with db.connect() as conn:
        return tuple([(await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in (
            "catalog.product_offering", "catalog.product_offering_price", "catalog.price_migration",
            "audit.domain_event")])


async def test_comparison_card_from_the_seeded_catalog(seeded_api):
    plans = (await seeded_api.get(f"{BASE}/productOffering", params={"category.id": "PLANS"})).json()
    assert_snapshot("catalog_comparison", comparison_card(plans))
    shown = render_text(comparison_card(plans))
    assert shown.index("Lite") < shown.index("Standard") < shown.index("Max") and "unlimited" in shown


async def test_offering_card_with_a_scheduled_promo(seeded_api):
    promo = {"name": "Spring promo", "productOffering": {"id": "PLAN_M"}, "priceType": "recurring",
             "price": {"unit": "SGD", "value": 20}, "recurringChargePeriodType": "day",
             "recurringChargePeriodLength": 30,
             "validFor": {"startDateTime": "2026-03-10T00:00:00Z", "endDateTime": "2026-04-01T00:00:00Z"}}
    assert (await seeded_api.post(f"{BASE}/productOfferingPrice", json=promo)).status_code == 201
    offering = (await seeded_api.get(f"{BASE}/productOffering/PLAN_M")).json()
    prices = (await seeded_api.get(f"{BASE}/productOfferingPrice", params={"productOffering.id": "PLAN_M"})).json()
    assert_snapshot("catalog_offering_plan_m", offering_card(offering, prices, now=T0))


async def test_vas_table_from_the_seeded_catalog(seeded_api):
    vas = (await seeded_api.get(f"{BASE}/productOffering", params={"category.id": "VAS"})).json()
    assert_snapshot("catalog_vas", vas_table(vas))


async def test_list_show_and_vas(seeded_api, bss):
    listed = await bss("catalog", "list")
    assert listed.exit_code == 0 and "Standard" in listed.output and "SGD 25.00" in listed.output
    assert [p["id"] for p in json.loads((await bss("catalog", "list", "--json")).output)] == [
        "PLAN_L", "PLAN_M", "PLAN_S"]
    shown = await bss("catalog", "show", "PLAN_M")
    assert shown.exit_code == 0 and "POP_PLAN_M_1" in shown.output and "in force ★" in shown.output
    assert json.loads((await bss("catalog", "show", "PLAN_M", "--json")).output)["activePrice"]["priceMinor"] == 2500
    missing = await bss("catalog", "show", "PLAN_X")
    assert missing.exit_code == 2 and "product_offering.not_found" in missing.output
    vas = await bss("catalog", "vas")
    assert vas.exit_code == 0 and "VAS_UNLIMITED_DAY" in vas.output and "24 h" in vas.output
    assert len(json.loads((await bss("catalog", "vas", "--json")).output)) == 4


async def test_admin_adds_a_priced_plan_and_a_vas(seeded_api, bss):
    plan = await bss("catalog", "admin", "add-offering", "--name", "Ultra", "--id", "PLAN_XL", "--data", "300GB",
                     "--voice", "unlimited", "--sms", "unlimited", "--roaming", "5GB", "--price", "65.00", "--json")
    assert plan.exit_code == 0, plan.output
    body = json.loads(plan.output)
    assert (body["id"], body["sellableNow"], body["activePrice"]["priceMinor"]) == ("PLAN_XL", True, 6500)
    assert {u["name"]: u["productSpecCharacteristicValue"][0]["value"] for u in body["prodSpecCharValueUse"]} == {
        "data": 307200, "voice": -1, "sms": -1, "data_roaming": 5120}
    vas = await bss("catalog", "admin", "add-offering", "--name", "Night Owl", "--kind", "vas", "--data", "unlimited",
                    "--expiry", "6h", "--price", "2")
    assert vas.exit_code == 0, vas.output
    assert "VAS_NIGHT_OWL" in vas.output and "6 h" in vas.output and "SGD 2.00" in vas.output
    bad = await bss("catalog", "admin", "add-offering", "--name", "Odd", "--data", "lots")
    assert bad.exit_code == 2 and "not a data amount" in bad.output


async def test_admin_set_price_and_its_refusal(seeded_api, seeded_db, bss):
    created = await bss("catalog", "admin", "set-price", "VAS_DATA_1GB", "--price", "2.50", "--valid-from",
                        "2026-03-05", "--json")
    assert created.exit_code == 0, created.output
    price = json.loads(created.output)
    assert (price["id"], price["priceType"], price["price"]) == ("POP_VAS_DATA_1GB_2", "oneTime",
                                                                 {"unit": "SGD", "value": 2.5})
    before = await catalog_rows(seeded_db)
    past = await bss("catalog", "admin", "set-price", "PLAN_M", "--price", "20", "--valid-from", "2026-02-01")
    assert past.exit_code == 2 and "catalog.price.window_valid" in past.output
    assert await catalog_rows(seeded_db) == before


async def test_admin_window_asks_before_retiring(seeded_api, seeded_db, bss):
    before = await catalog_rows(seeded_db)
    declined = await bss("catalog", "admin", "window", "PLAN_L", "--retire", input="n\n")
    assert declined.exit_code == 1 and await catalog_rows(seeded_db) == before
    retired = await bss("catalog", "admin", "window", "PLAN_L", "--retire", "--yes", "--json")
    assert retired.exit_code == 0 and json.loads(retired.output)["lifecycleStatus"] == "Retired"
    ended = await bss("catalog", "admin", "window", "PLAN_S", "--valid-to", "2026-06-30", "--yes")
    assert ended.exit_code == 0 and "2026-06-30" in ended.output
    assert (await bss("catalog", "admin", "window", "PLAN_S")).exit_code == 2


async def test_admin_migrate_price_asks_then_schedules(seeded_api, seeded_db, bss):
    before = await catalog_rows(seeded_db)
    declined = await bss("catalog", "admin", "migrate-price", "PLAN_M", "--price", "28", input="n\n")
    assert declined.exit_code == 1 and await catalog_rows(seeded_db) == before
    short = await bss("catalog", "admin", "migrate-price", "PLAN_M", "--price", "28", "--notice-days", "7", "--yes")
    assert short.exit_code == 2 and "catalog.migration.notice_at_least_30_days" in short.output
    done = await bss("catalog", "admin", "migrate-price", "PLAN_M", "--price", "28", "--yes")
    assert done.exit_code == 0 and "PMIG_PLAN_M_1" in done.output and "2026-03-31" in done.output
    migration = json.loads((await bss("catalog", "admin", "migrate-price", "PLAN_S", "--price", "12", "--yes",
                                      "--json")).output)
    assert (migration["state"], migration["toPrice"]["priceMinor"]) == ("scheduled", 1200)
