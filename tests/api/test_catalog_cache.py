"""The catalog cache over real HTTP: answers are reused, and a change, a missed NOTIFY or a window edge ends that.

The API runs in this process on the test's own database; its cache LISTENs there (`apis/catalog_cache.py`).
A write with triggers disabled (`session_replication_role = replica`) is how the tests tell a cached
answer from a fresh one: nothing announces it, so only the database knows.
"""

import asyncio
import datetime as dt

import pytest
from sqlalchemy import text

from apis.catalog_cache import CatalogCache
from core import clock
from tests.support.catalog_clock import T0, frozen_clock  # noqa: F401 (autouse fixture)

OFFERINGS = "/tmf-api/productCatalogManagement/v4/productOffering"


async def plan_m_name(api) -> str:
    listed = await api.get(OFFERINGS, params={"category.id": "PLANS"})
    assert listed.status_code == 200, listed.text
    return next(o["name"] for o in listed.json() if o["id"] == "PLAN_M")


async def warm(api) -> None:
    """Read once so the cache starts listening, wait until it is attached, then read to keep an answer."""
    seen: set[CatalogCache] = set()
    generation = CatalogCache.generation

    def spied(cache: CatalogCache) -> int | None:
        seen.add(cache)
        return generation(cache)

    with pytest.MonkeyPatch.context() as patch:  # the API runs in this process: find its cache on the read
        patch.setattr(CatalogCache, "generation", spied)
        await plan_m_name(api)
    (cache,) = seen
    deadline = asyncio.get_running_loop().time() + 10
    while cache.generation() is None:  # None until its LISTEN is in place on the database in use
        assert asyncio.get_running_loop().time() < deadline, "the catalog cache never attached its listener"
        await asyncio.sleep(0.05)
    await plan_m_name(api)


async def rename_silently(db, name: str) -> None:
    async with db.begin() as conn:
        await conn.execute(text("SET LOCAL session_replication_role = replica"))  # no trigger, no NOTIFY
        await conn.execute(text("UPDATE catalog.product_offering SET name = :n WHERE id = 'PLAN_M'"), {"n": name})


async def eventually(read, expected: str, seconds: float = 5.0) -> str:
    deadline = asyncio.get_running_loop().time() + seconds
    while (seen := await read()) != expected and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    return seen


async def test_an_answer_is_reused_until_a_notify_says_the_catalog_changed(seeded_api, seeded_db):
    await warm(seeded_api)
    original = await plan_m_name(seeded_api)
    await rename_silently(seeded_db, "Silently renamed")
    assert await plan_m_name(seeded_api) == original  # served from the cache: nothing announced the change
    async with seeded_db.begin() as conn:
        await conn.execute(text("SELECT pg_notify('bss_catalog_changed', '')"))
    assert await eventually(lambda: plan_m_name(seeded_api), "Silently renamed") == "Silently renamed"


async def test_any_writer_is_seen_through_the_trigger(seeded_api, seeded_db):
    await warm(seeded_api)
    async with seeded_db.begin() as conn:  # e.g. psql or a seed: the trigger NOTIFYs at commit
        await conn.execute(text("UPDATE catalog.product_offering SET name = 'Mobile M+' WHERE id = 'PLAN_M'"))
    assert await eventually(lambda: plan_m_name(seeded_api), "Mobile M+") == "Mobile M+"


async def test_a_write_through_this_api_is_read_back_at_once(seeded_api, seeded_db):
    await warm(seeded_api)
    patched = await seeded_api.patch(f"{OFFERINGS}/PLAN_M", json={"name": "Mobile M (2026)"})
    assert patched.status_code == 200, patched.text
    assert await plan_m_name(seeded_api) == "Mobile M (2026)"  # no wait: this process dropped its answers


async def test_an_answer_ends_at_the_next_window_edge_and_never_serves_an_earlier_time(seeded_api, seeded_db):
    promo_start = T0 + dt.timedelta(hours=1)
    created = await seeded_api.post("/tmf-api/productCatalogManagement/v4/productOfferingPrice", json={
        "name": "Flash promo", "productOffering": {"id": "PLAN_M"}, "priceType": "recurring",
        "price": {"unit": "SGD", "value": 9.0}, "recurringChargePeriodType": "day",
        "recurringChargePeriodLength": 30, "validFor": {"startDateTime": promo_start.isoformat()}})
    assert created.status_code == 201, created.text
    await warm(seeded_api)

    async def price_of_plan_m() -> int:
        return (await seeded_api.get(f"{OFFERINGS}/PLAN_M")).json()["activePrice"]["priceMinor"]

    before = await price_of_plan_m()
    await price_of_plan_m()  # kept now: valid until the promo starts
    clock.freeze(promo_start)
    assert (before, await price_of_plan_m()) == (2500, 900)
    clock.freeze(T0)  # a clock moved back (a test, a scenario reset) never gets the later answer
    assert await price_of_plan_m() == 2500
