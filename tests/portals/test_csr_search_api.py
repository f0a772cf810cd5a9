"""The care look-ups the CSR console is built on: customer search and the customer's audit timeline.

Real API over TCP, through the operations (as the console calls them) with the `portal-csr` token.
"""

from __future__ import annotations

import asyncio

import pytest

from core.api_client import ApiError, BssClient
from operations import customer as customers
from tests.conftest import client_for
from tests.support.factories import ready_customer


def _csr(op, **values):
    with BssClient(surface="portal-csr", actor="ops-tester") as client:
        return op(client, **values)


async def test_search_finds_a_customer_by_name_part_email_and_id_and_not_others(seeded_api):
    mine = await ready_customer(seeded_api)
    other = await ready_customer(seeded_api)
    card = (await seeded_api.get(f"/crm-api/v1/customer/{mine}/summary")).json()
    name = card["customer"]["name"]  # "Mei Tan <n>"
    email = next(c["value"] for c in card["contacts"] if c["mediumType"] == "email")

    by_name = await asyncio.to_thread(_csr, customers.search, query=name.lower())
    assert [r["id"] for r in by_name][:1] == [mine] and other not in [r["id"] for r in by_name]
    assert by_name[0]["email"] == email and by_name[0]["status"] == "active"
    by_email = await asyncio.to_thread(_csr, customers.search, query=email.upper())
    assert [r["id"] for r in by_email] == [mine]
    by_id = await asyncio.to_thread(_csr, customers.search, query=mine.lower())
    assert [r["id"] for r in by_id] == [mine]
    assert await asyncio.to_thread(_csr, customers.search, query="no such person zzz") == []


async def test_a_customer_bound_call_cannot_search_or_read_a_timeline(seeded_api, api_url):
    mine = await ready_customer(seeded_api)
    async with client_for(api_url, "portal-self-serve", **{"X-BSS-On-Behalf-Of": mine}) as bound:
        search = await bound.get("/crm-api/v1/customer/search", params={"q": "Mei"})
        timeline = await bound.get(f"/crm-api/v1/customer/{mine}/timeline")
    assert search.status_code in (403, 422) and timeline.status_code == 403


async def test_the_timeline_lists_the_customers_events_newest_first_with_their_actor(seeded_api):
    mine = await ready_customer(seeded_api)
    other = await ready_customer(seeded_api)
    events = await asyncio.to_thread(_csr, customers.timeline, customer_id=mine)
    types = [e["eventType"] for e in events]
    assert {"individual.created", "customer.created", "customer.kyc_verified", "payment_method.added"} <= set(types)
    assert types.index("customer.kyc_verified") < types.index("customer.created")  # newest first
    theirs = await asyncio.to_thread(_csr, customers.timeline, customer_id=other)
    assert not {e["id"] for e in events} & {e["id"] for e in theirs}  # nothing of the other customer's
    assert {e["channel"] for e in events} == {"cli"} and len(
        await asyncio.to_thread(_csr, customers.timeline, customer_id=mine, limit=2)) == 2
    with pytest.raises(ApiError) as missing:
        await asyncio.to_thread(_csr, customers.timeline, customer_id="CUST-999999")
    assert missing.value.status == 404
