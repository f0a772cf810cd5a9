"""TMF630 filtering and sort on every collection, through the real API (apis/tmf.py).

The walk takes every list route under /tmf-api/ from the app's route table, so a new collection is
covered the day it is added. On a stack with a completed order, usage, a ticket and an interaction,
each non-empty collection is filtered on the first-level attributes its first item carries (`id`,
`href`, `name`, `state`/`status`, `lastUpdate`, …): equality keeps exactly the items with that value,
`ne` drops them, dates and numbers answer `.gt/.gte/.lt/.lte` on the right side of the item, and `sort`
orders both ways. Empty collections must still accept the same filters (200, not 400).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import apis.tmf
from apis.app import api_routes, create_app
from tests.api.test_usage import active_line, post_usage

TMF = "/tmf-api"
MAX_ATTRIBUTES = 8  # per collection: enough to cover pushed-down and refined attributes, cheap enough to run
# Collections this stack leaves empty; the walk still asks them to filter.
# Filters a router refuses on purpose: a card is never looked up by number (apis/tmf670_payment_method.py).
REFUSED = {("/tmf-api/paymentMethod/v4/paymentMethod", "cardNumber")}
MAY_BE_EMPTY = {"cancelProductOrder"}


def list_routes() -> list[str]:
    """Every collection GET under /tmf-api/ (no path parameter)."""
    return sorted({r.path for r in api_routes(create_app()) if "GET" in r.methods and r.path.startswith(TMF)
                   and "{" not in r.path})


def _instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or len(value) < 10 or value[4:5] != "-":
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def _scalars(item: dict[str, Any]) -> list[tuple[str, Any]]:
    """The first-level attributes with a scalar value, the TMF630 ones first."""
    first = ("id", "href", "name", "state", "status", "lastUpdate", "@type")
    pairs = [(k, v) for k, v in item.items() if isinstance(v, (str, int, bool)) and not isinstance(v, float)]
    pairs.sort(key=lambda kv: (first.index(kv[0]) if kv[0] in first else len(first), kv[0]))
    return pairs[:MAX_ATTRIBUTES]


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


async def _get(api: httpx.AsyncClient, path: str, problems: list[str], **params: Any) -> list[dict[str, Any]]:
    """Every item the query finds, page after page (`X-Total-Count` says when to stop)."""
    found: list[dict[str, Any]] = []
    while True:
        response = await api.get(path, params={"limit": 1000, "offset": len(found), **params})
        if response.status_code != 200:
            problems.append(f"{path} {params}: {response.status_code} {response.text[:200]}")
            return found
        assert response.headers["X-Result-Count"] == str(len(response.json()))
        found += response.json()
        if not response.json() or len(found) >= int(response.headers["X-Total-Count"]):
            return found


async def _check_collection(api: httpx.AsyncClient, path: str, problems: list[str]) -> bool:
    """Filter and sort one collection on its own attributes; False when it is empty."""
    items = await _get(api, path, problems)
    if not items:
        for params in ({"id": "nope"}, {"href": "nope"}, {"lastUpdate.gt": "2020-01-01"}, {"sort": "-id"}):
            await _get(api, path, problems, **params)
        return False
    target = items[0]
    ids = [i["id"] for i in items]
    for name, value in _scalars(target):
        if (path, name) in REFUSED:
            continue
        same = {i["id"] for i in items if _text(i.get(name)) == _text(value)}
        got = {i["id"] for i in await _get(api, path, problems, **{name: _text(value)})}
        if got != same:
            problems.append(f"{path}?{name}={value}: {sorted(got)} != {sorted(same)}")
        others = {i["id"] for i in await _get(api, path, problems, **{f"{name}.ne": _text(value)})}
        if others != set(ids) - same:
            problems.append(f"{path}?{name}.ne={value}: {sorted(others)} != {sorted(set(ids) - same)}")
        moment = _instant(value)
        if moment is not None or (isinstance(value, int) and not isinstance(value, bool)):
            for op, keeps in (("gte", True), ("lte", True), ("gt", False), ("lt", False)):
                got_ids = {i["id"] for i in await _get(api, path, problems, **{f"{name}.{op}": _text(value)})}
                if (target["id"] in got_ids) != keeps:
                    problems.append(f"{path}?{name}.{op}={value}: {target['id']} {'missing' if keeps else 'kept'}")
    ascending = [i["id"] for i in await _get(api, path, problems, sort="id")]
    descending = [i["id"] for i in await _get(api, path, problems, sort="-id")]
    if ascending != descending[::-1] or sorted(ascending) != sorted(ids):
        problems.append(f"{path}?sort=id: {ascending} is not the reverse of {descending}")
    return True


@pytest.mark.asyncio
async def test_every_collection_filters_and_sorts_on_its_own_attributes(seeded_api: httpx.AsyncClient,
                                                                         seeded_db: AsyncEngine) -> None:
    """Each TMF collection answers TMF630 filters on the attributes its items carry, and `sort`."""
    sub_id, msisdn = await active_line(seeded_api, seeded_db)
    assert (await post_usage(seeded_api, msisdn, 10)).status_code == 201
    product = (await seeded_api.get(f"{TMF}/productInventory/v4/product/{sub_id}")).json()
    ticket = await seeded_api.post(f"{TMF}/troubleTicket/v4/troubleTicket", json={
        "description": "no data", "severity": "minor", "ticketType": "network",
        "relatedParty": [{"id": product["relatedParty"][0]["id"], "role": "customer", "@referredType": "Customer"}]})
    assert ticket.status_code == 201, ticket.text
    assert (await seeded_api.post(f"{TMF}/party/v4/organization", json={"tradingName": "Lim Traders"})).status_code == 201
    payments = (await seeded_api.get(f"{TMF}/paymentManagement/v4/payment")).json()
    refund = await seeded_api.post(f"{TMF}/paymentManagement/v4/refund", json={
        "payment": {"id": payments[0]["id"]}, "totalAmount": {"unit": "SGD", "value": 1}})
    assert refund.status_code == 201, refund.text
    adjusted = await seeded_api.post(f"{TMF}/prepayBalanceManagement/v4/adjustBalance", json={
        "bucket": {"id": f"{sub_id}-data"}, "usageType": "data", "amount": {"amount": 100, "units": "MB"},
        "reason": "goodwill: outage"})
    assert adjusted.status_code == 201, adjusted.text
    customer = product["relatedParty"][0]["id"]
    card = (await seeded_api.get(f"{TMF}/paymentMethod/v4/paymentMethod", params={"relatedParty.id": customer})).json()
    charged = await seeded_api.post(f"{TMF}/paymentManagement/v4/payment", json={
        "account": {"id": customer}, "paymentMethod": {"id": card[0]["id"]}, "totalAmount": {"unit": "SGD", "value": 5}})
    billed = await seeded_api.post(f"{TMF}/customerBillManagement/v4/customerBillOnDemand", json={
        "billingAccount": {"id": customer}, "product": {"id": sub_id}, "payment": {"id": charged.json()["id"]}})
    assert billed.status_code == 201, billed.text
    problems: list[str] = []
    async with seeded_db.begin() as conn:  # the seeded pools hold ~2,000 free numbers and profiles: 40 will do
        await conn.execute(text("DELETE FROM inventory.msisdn WHERE state = 'available' AND number NOT IN "
                                "(SELECT number FROM inventory.msisdn WHERE state = 'available' ORDER BY number LIMIT 20)"))
        await conn.execute(text("DELETE FROM inventory.esim_profile WHERE state = 'available' AND iccid NOT IN "
                                "(SELECT iccid FROM inventory.esim_profile WHERE state = 'available' ORDER BY iccid LIMIT 20)"))
    empty = [path for path in list_routes() if not await _check_collection(seeded_api, path, problems)]
    assert not problems, "\n".join(p[:300] for p in problems)
    assert {p.rsplit("/", 1)[1] for p in empty} <= MAY_BE_EMPTY, f"collections the walk could not exercise: {empty}"


@pytest.mark.asyncio
async def test_refined_lists_page_and_count_after_filtering(seeded_api: httpx.AsyncClient) -> None:
    """`X-Total-Count` counts what the filter kept; `offset`/`limit` page that, in `sort` order."""
    offerings = f"{TMF}/productCatalogManagement/v4/productOffering"
    every = (await seeded_api.get(offerings, params={"limit": 1000})).json()
    names = sorted((o["name"] for o in every), reverse=True)
    page = await seeded_api.get(offerings, params={"sort": "-name", "offset": 1, "limit": 2,
                                                   "name.ne": "no such offering"})
    assert page.status_code == 200, page.text
    assert [o["name"] for o in page.json()] == names[1:3]
    assert page.headers["X-Total-Count"] == str(len(every)) and page.headers["X-Result-Count"] == "2"
    some = [every[0]["id"], every[1]["id"]]
    listed = await seeded_api.get(offerings, params={"id": ",".join(some), "fields": "name"})
    assert sorted(o["id"] for o in listed.json()) == sorted(some)
    assert all(set(o) <= {"id", "href", "@type", "name", "lifecycleStatus", "lastUpdate", "productSpecification"} for o in listed.json())


@pytest.mark.asyncio
async def test_dates_compare_as_instants_and_sub_attributes_filter(seeded_api: httpx.AsyncClient,
                                                                   seeded_db: AsyncEngine) -> None:
    """`lastUpdate.gt=<date>` compares instants (a bare date is midnight UTC); dotted paths look into lists."""
    sub_id, _ = await active_line(seeded_api, seeded_db)
    products = f"{TMF}/productInventory/v4/product"
    (product,) = (await seeded_api.get(products, params={"id": sub_id})).json()
    started = dt.datetime.fromisoformat(product["startDate"])
    day_before = (started - dt.timedelta(days=1)).date().isoformat()
    assert [p["id"] for p in (await seeded_api.get(products, params={"startDate.gt": day_before})).json()] == [sub_id]
    assert (await seeded_api.get(products, params={"startDate.lt": day_before})).json() == []
    party = product["relatedParty"][0]["id"]
    by_party = await seeded_api.get(products, params={"relatedParty.id": party, "sort": "startDate"})
    assert [p["id"] for p in by_party.json()] == [sub_id]
    by_role = await seeded_api.get(products, params={"relatedParty.role": product["relatedParty"][0]["role"]})
    assert sub_id in [p["id"] for p in by_role.json()]


@pytest.mark.asyncio
async def test_bad_filters_are_400_and_too_broad_refinements_422(seeded_api: httpx.AsyncClient,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A filter that is not an attribute path is a 400; a refinement over more rows than it may scan is a 422."""
    offerings = f"{TMF}/productCatalogManagement/v4/productOffering"
    for params in ({"name..x": "x"}, {"na me": "x"}, {"sort": "-"}, {"sort": "name,,id"}):
        refused = await seeded_api.get(offerings, params=params)
        assert refused.status_code == 400, (params, refused.text)
        assert refused.json()["code"] == "request.malformed"
    monkeypatch.setattr(apis.tmf, "SCAN_LIMIT", 2)
    broad = await seeded_api.get(offerings, params={"name.ne": "x"})
    assert broad.status_code == 422, broad.text
    assert broad.json()["code"] == "request.list.too_broad"
    narrow = await seeded_api.get(offerings, params={"id": "PLAN_M", "sort": "name"})
    assert [o["id"] for o in narrow.json()] == ["PLAN_M"]
