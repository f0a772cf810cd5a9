"""The signup number picker's one API route: `GET /inventory-api/v1/msisdn/available` (scope customer:signup).

The self-serve surface may not read the inventory (`inventory:read` is care staff's); a visitor who is
signing up may see which numbers are free, and nothing else about them: not who holds a number, not a
range, not a reserved or quarantined one.
"""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from operations import inventory
from tests.conftest import client_for

RESOURCE = "/tmf-api/resourceInventoryManagement/v4/resource"


async def test_a_visitor_sees_only_available_numbers_and_only_the_number(seeded_api: httpx.AsyncClient,
                                                                          seeded_db: AsyncEngine, api_url: str) -> None:
    # Numbers out of the pool (a reserved one, a quarantined one) must never be offered to a visitor.
    async with seeded_db.begin() as conn:
        await conn.execute(text("UPDATE inventory.msisdn SET state = 'reserved', reserved_for = 'ORD-999999',"
                                " reserved_at = now() WHERE number = '90000005'"))
        await conn.execute(text("UPDATE inventory.msisdn SET state = 'quarantine',"
                                " quarantine_until = now() + interval '90 days' WHERE number = '90000006'"))
    async with client_for(api_url, "portal-self-serve") as visitor:
        # The self-serve surface cannot list the inventory itself…
        denied = await visitor.get(RESOURCE, params={"@type": "MSISDN", "state": "available"})
        assert denied.status_code == 403 and denied.json()["code"] == "auth.scope.denied"
        # …but, unbound (no customer yet), may ask which numbers are free.
        found = await visitor.get(inventory.AVAILABLE, params={"limit": 20})
        assert found.status_code == 200, found.text
        rows = found.json()
        assert len(rows) == 20 and all(set(row) == {"msisdn"} for row in rows)
        numbers = [row["msisdn"] for row in rows]
        assert numbers == sorted(numbers) and all(n.startswith("90000") for n in numbers)
        # A whole number checks that one: a free one is offered, one out of the pool is not.
        assert (await visitor.get(inventory.AVAILABLE, params={"contains": "90000123"})).json() == [
            {"msisdn": "90000123"}]
        for taken in ("90000005", "90000006"):
            assert (await visitor.get(inventory.AVAILABLE, params={"contains": taken})).json() == []
        near = [r["msisdn"] for r in (await visitor.get(inventory.AVAILABLE, params={"contains": "9000000"})).json()]
        assert near == ["90000000", "90000001", "90000002", "90000003", "90000004", "90000007"]
        # Digits anywhere in the number: every answer holds them.
        some = (await visitor.get(inventory.AVAILABLE, params={"contains": "77", "limit": 20})).json()
        assert some and all("77" in row["msisdn"] for row in some)
        # Anything but digits, or too many at once, is refused before the database is asked.
        assert (await visitor.get(inventory.AVAILABLE, params={"contains": "9%"})).status_code in (400, 422)
        assert (await visitor.get(inventory.AVAILABLE, params={"limit": 500})).status_code in (400, 422)


async def test_without_a_filter_visitors_are_offered_different_places_in_the_pool(seeded_api, api_url: str) -> None:
    async with client_for(api_url, "portal-self-serve") as visitor:
        firsts = {(await visitor.get(inventory.AVAILABLE, params={"limit": 3})).json()[0]["msisdn"]
                  for _ in range(8)}
    assert len(firsts) > 1  # 8 draws from ~1000 places: all equal would mean no randomness


async def test_the_cli_lists_available_numbers(seeded_api: httpx.AsyncClient, bss) -> None:
    result = await bss("inventory", "msisdn", "available", "--contains", "9000001", "--limit", "3")
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["90000010", "90000011", "90000012"]
