"""Catalog rule codes no other test asserted through HTTP (issue #17): a price for a retired offering, a
price migration of an offering off sale, and one that would cross a price version already scheduled."""

from __future__ import annotations

from tests.api.test_catalog import DAY, MIGRATIONS, OFFERINGS, PRICES, assert_error, counts, price_body
from tests.support.catalog_clock import T0, frozen_clock  # noqa: F401 (autouse fixture)


async def test_a_retired_offering_takes_no_price_and_no_migration(seeded_api, seeded_db):
    retired = await seeded_api.patch(f"{OFFERINGS}/PLAN_L", json={"lifecycleStatus": "Retired"})
    assert retired.status_code == 200, retired.text
    before = await counts(seeded_db)
    assert_error(await seeded_api.post(PRICES, json=price_body("PLAN_L", 40.0)), 422,
                 "catalog.price.offering_not_retired")
    assert_error(await seeded_api.post(MIGRATIONS, json={
        "offeringId": "PLAN_L", "price": {"unit": "SGD", "value": 50.0}, "noticeDays": 30}), 422,
        "catalog.migration.offering_sellable_now")
    assert await counts(seeded_db) == before


async def test_a_migration_cannot_cross_a_price_version_already_scheduled(seeded_api, seeded_db):
    scheduled = await seeded_api.post(PRICES, json=price_body("PLAN_M", 20.0, start=T0 + 40 * DAY))
    assert scheduled.status_code == 201, scheduled.text
    before = await counts(seeded_db)
    error = assert_error(await seeded_api.post(MIGRATIONS, json={
        "offeringId": "PLAN_M", "price": {"unit": "SGD", "value": 28.0}, "noticeDays": 30}), 422,
        "catalog.migration.conflicts_with_scheduled_price")
    assert scheduled.json()["id"] in str(error)
    assert await counts(seeded_db) == before
