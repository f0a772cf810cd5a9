"""TMF620 catalog over real HTTP: reads, prices over time windows, admin writes, price migrations.

The clock is frozen (the API runs in this process, so it sees the same instant). Every refused
request is checked twice: the TMF error names the rule, and no catalog row nor audit event changed.
"""

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select, text

from activities import catalog
from core import clock
from core.errors import NotFound, PolicyViolation
from domain.audit import domain_event
from domain.catalog import AllowanceType, OfferingKind, PriceType, VasExpiry, product_offering_price
from tests.conftest import client_for
from tests.support.catalog_clock import T0, frozen_clock  # noqa: F401 (autouse fixture)

BASE = "/tmf-api/productCatalogManagement/v4"
OFFERINGS, PRICES = f"{BASE}/productOffering", f"{BASE}/productOfferingPrice"
MIGRATIONS = "/catalog-api/v1/priceMigration"
TABLES = ("catalog.product_offering", "catalog.product_offering_price", "catalog.bundle_allowance",
          "catalog.offering_category", "catalog.price_migration", "audit.domain_event")
DAY = dt.timedelta(days=1)


async def counts(db) -> dict[str, int]:
    """Rows in every table a catalog write touches."""
    async with db.connect() as conn:
        return {t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["@type"] == "Error" and body["code"] == code and body["status"] == str(status)
    return body


def iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def price_body(offering_id: str = "PLAN_M", value: float = 20.0, start: dt.datetime | None = T0 + 10 * DAY,
               **extra) -> dict:
    body = {"name": "Spring promo", "productOffering": {"id": offering_id}, "priceType": "recurring",
            "price": {"unit": "SGD", "value": value}, "recurringChargePeriodType": "day",
            "recurringChargePeriodLength": 30, **extra}
    if start is not None:
        body["validFor"] = {"startDateTime": iso(start)}
    return body


def allowance(name: str, value: int, unit: str) -> dict:
    return {"name": name, "productSpecCharacteristicValue": [{"value": value, "unitOfMeasure": unit}]}


PLAN_XL = {"id": "PLAN_XL", "name": "Ultra", "description": "300 GB for heavy users.", "category": [{"id": "PLANS"}],
           "prodSpecCharValueUse": [allowance("data", 300 * 1024, "MB"), allowance("voice", -1, "s"),
                                    allowance("sms", -1, "sms"), allowance("data_roaming", 5 * 1024, "MB")]}
VAS_NIGHT = {"name": "Night Owl 2h", "category": [{"id": "VAS"}], "prodSpecCharValueUse": [allowance("data", -1, "MB")],
             "productOfferingTerm": [{"name": "duration", "duration": {"amount": 2, "units": "hour"}}]}


async def test_offerings_list_plans_first_with_allowances_terms_and_the_price_in_force(seeded_api):
    response = await seeded_api.get(OFFERINGS)
    assert response.status_code == 200 and response.headers["X-Total-Count"] == "7"
    offerings = response.json()
    assert [o["id"] for o in offerings[:3]] == ["PLAN_L", "PLAN_M", "PLAN_S"]
    plan = next(o for o in offerings if o["id"] == "PLAN_M")
    assert plan["@type"] == "ProductOffering" and plan["href"].endswith(f"{OFFERINGS}/PLAN_M")
    assert (plan["name"], plan["lifecycleStatus"], plan["isSellable"], plan["sellableNow"]) == (
        "Standard", "Active", True, True)
    assert plan["validFor"] == {"startDateTime": "2026-01-01T00:00:00Z"} and plan["lastUpdate"]
    assert plan["productSpecification"]["id"] == "SPEC_MOBILE_BUNDLE"
    assert [(c["id"], c["name"]) for c in plan["category"]] == [("PLANS", "Plans")]
    assert [p["id"] for p in plan["productOfferingPrice"]] == ["POP_PLAN_M_1"]
    assert plan["activePrice"] | {"href": None} == {
        "id": "POP_PLAN_M_1", "href": None, "name": "Standard launch price", "@referredType": "ProductOfferingPrice",
        "priceType": "recurring", "priceMinor": 2500, "currency": "SGD", "periodDays": 30}
    values = {u["name"]: (u["productSpecCharacteristicValue"][0]["value"],
                          u["productSpecCharacteristicValue"][0]["unitOfMeasure"], u["description"])
              for u in plan["prodSpecCharValueUse"]}
    assert values == {"data": (30720, "MB", "30 GB"), "voice": (-1, "s", "unlimited"),
                      "sms": (-1, "sms", "unlimited"), "data_roaming": (500, "MB", "500 MB")}
    assert plan["productOfferingTerm"] == [{"name": "renewalPeriod", "description": "Renews every 30 days",
                                            "duration": {"amount": 30, "units": "day"}}]
    day_pass = (await seeded_api.get(f"{OFFERINGS}/VAS_UNLIMITED_DAY")).json()
    assert day_pass["productOfferingTerm"][0]["duration"] == {"amount": 86400, "units": "s"}
    assert day_pass["activePrice"]["priceType"] == "oneTime" and day_pass["activePrice"]["periodDays"] is None


async def test_filters_fields_and_paging(seeded_api):
    vas = await seeded_api.get(OFFERINGS, params={"category.id": "VAS"})
    assert [o["id"] for o in vas.json()] == ["VAS_DATA_1GB", "VAS_DATA_5GB", "VAS_ROAMING_1GB", "VAS_UNLIMITED_DAY"]
    assert len((await seeded_api.get(OFFERINGS, params={"category.name": "Plans"})).json()) == 3
    assert len((await seeded_api.get(OFFERINGS, params={"lifecycleStatus": "Active"})).json()) == 7
    assert (await seeded_api.get(OFFERINGS, params={"lifecycleStatus": "retired"})).json() == []
    assert [o["id"] for o in (await seeded_api.get(OFFERINGS, params={"name": "Max"})).json()] == ["PLAN_L"]
    page = await seeded_api.get(OFFERINGS, params={"offset": 1, "limit": 2, "fields": "isSellable"})
    assert (page.headers["X-Total-Count"], page.headers["X-Result-Count"]) == ("7", "2")
    assert [sorted(o) for o in page.json()] == [["@type", "href", "id", "isSellable", "lastUpdate", "lifecycleStatus",
                                                 "name", "productSpecification"]] * 2
    one = await seeded_api.get(f"{PRICES}/POP_PLAN_S_1", params={"fields": "price"})
    assert sorted(one.json()) == ["@type", "href", "id", "lastUpdate", "lifecycleStatus", "name", "price", "priceType"]
    assert len((await seeded_api.get(PRICES, params={"priceType": "oneTime"})).json()) == 4
    assert [p["id"] for p in (await seeded_api.get(PRICES, params={"productOffering.id": "PLAN_S"})).json()] == [
        "POP_PLAN_S_1"]
    # TMF630: any attribute filters; one no offering carries matches none (tests/api/test_tmf630_filtering.py).
    assert (await seeded_api.get(OFFERINGS, params={"colour": "red"})).json() == []
    assert_error(await seeded_api.get(OFFERINGS, params={"col our": "red"}), 400, "request.malformed")
    assert_error(await seeded_api.get(OFFERINGS, params={"isSellable": "maybe"}), 400, "request.malformed")


async def test_prices_are_exact_in_minor_units_and_as_tmf_values(seeded_api, seeded_db):
    plan = (await seeded_api.get(f"{PRICES}/POP_PLAN_M_1")).json()
    assert plan["price"] == {"unit": "SGD", "value": 25.0} and plan["priceType"] == "recurring"
    assert (plan["recurringChargePeriodType"], plan["recurringChargePeriodLength"]) == ("day", 30)
    assert plan["productOffering"]["id"] == "PLAN_M" and plan["lifecycleStatus"] == "Active"
    assert plan["description"] == "SGD 25.00 every 30 days, tax included"
    vas = (await seeded_api.get(f"{PRICES}/POP_VAS_DATA_5GB_1")).json()
    assert vas["price"] == {"unit": "SGD", "value": 12.0} and vas["priceType"] == "oneTime"
    assert "recurringChargePeriodLength" not in vas
    created = await seeded_api.post(PRICES, json=price_body(value=19.99))
    assert created.status_code == 201, created.text
    assert created.json()["price"] == {"unit": "SGD", "value": 19.99}
    async with seeded_db.connect() as conn:
        stored = (await conn.execute(select(product_offering_price.c.price_minor).where(
            product_offering_price.c.id == created.json()["id"]))).scalar_one()
    assert stored == 1999


async def test_catalog_category_and_specification_reads(seeded_api):
    prepaid = (await seeded_api.get(f"{BASE}/catalog/PREPAID")).json()
    assert [c["id"] for c in prepaid["category"]] == ["PLANS", "VAS"] and prepaid["lifecycleStatus"] == "Active"
    plans = (await seeded_api.get(f"{BASE}/category/PLANS")).json()
    assert [o["id"] for o in plans["productOffering"]] == ["PLAN_L", "PLAN_M", "PLAN_S"] and plans["isRoot"] is True
    spec = (await seeded_api.get(f"{BASE}/productSpecification/SPEC_MOBILE_BUNDLE")).json()
    assert [(c["name"], c["productSpecCharacteristicValue"][0]["unitOfMeasure"]) for c in
            spec["productSpecCharacteristic"]] == [("data", "MB"), ("voice", "s"), ("sms", "sms"), ("data_roaming", "MB")]
    for path in ("catalog", "category", "productSpecification"):
        listed = await seeded_api.get(f"{BASE}/{path}", params={"lifecycleStatus": "Active"})
        assert listed.status_code == 200 and int(listed.headers["X-Total-Count"]) >= 1


async def test_every_body_carries_what_tmf_clients_check(seeded_api):
    mandatory = {"href", "id", "lastUpdate", "lifecycleStatus", "name"}
    for path, extra in (("productOffering", {"productSpecification", "@type"}), ("productOfferingPrice", {"priceType"}),
                        ("productSpecification", set())):
        bodies = (await seeded_api.get(f"{BASE}/{path}")).json()
        assert bodies and all(mandatory | extra <= set(body) for body in bodies), path
        assert all(isinstance(body[key], str) for body in bodies for key in mandatory)
    assert all(body["isBundle"] is False for body in (await seeded_api.get(OFFERINGS)).json())


@pytest.mark.parametrize(("path", "code"), [
    ("productOffering/PLAN_X", "product_offering.not_found"),
    ("productOfferingPrice/POP_X", "product_offering_price.not_found"),
    ("productSpecification/SPEC_X", "product_specification.not_found"),
    ("category/CAT_X", "category.not_found"), ("catalog/CAT_X", "catalog.not_found")])
async def test_unknown_ids_are_404(seeded_api, path, code):
    assert_error(await seeded_api.get(f"{BASE}/{path}"), 404, code)


async def test_reads_are_public_to_every_surface_but_writes_are_403_for_portals_and_the_agent(api_url, seeded_db):
    before = await counts(seeded_db)
    for surface in ("portal-self-serve", "portal-csr", "agent"):
        async with client_for(api_url, surface) as client:
            assert (await client.get(f"{OFFERINGS}/PLAN_M")).json()["sellableNow"] is True
            assert_error(await client.post(PRICES, json=price_body()), 403, "auth.scope.denied")
            assert_error(await client.post(OFFERINGS, json=PLAN_XL), 403, "auth.scope.denied")
            assert_error(await client.post(OFFERINGS, json={"colour": 1}), 403, "auth.scope.denied")
            assert_error(await client.patch(f"{OFFERINGS}/PLAN_M", json={"lifecycleStatus": "Retired"}), 403,
                         "auth.scope.denied")
            assert_error(await client.patch(f"{PRICES}/POP_PLAN_M_1", json={"name": "x"}), 403,
                         "auth.scope.denied")
            assert_error(await client.post(MIGRATIONS, json={"offeringId": "PLAN_M", "noticeDays": 30,
                                                             "price": {"unit": "SGD", "value": 30}}),
                         403, "auth.scope.denied")
    assert await counts(seeded_db) == before


async def test_sellable_now_follows_the_offering_window_and_its_prices(seeded_api):
    clock.freeze(dt.datetime(2025, 12, 31, 23, 59, tzinfo=dt.UTC))
    early = (await seeded_api.get(f"{OFFERINGS}/PLAN_M")).json()
    assert early["sellableNow"] is False and "activePrice" not in early
    with pytest.raises(PolicyViolation) as refused:
        await catalog.resolve_price("PLAN_M", clock.now())
    assert refused.value.code == "order.create.offering_sellable_now"
    assert refused.value.context["reasons"] == ["not yet valid", "no price in force"]
    with pytest.raises(PolicyViolation) as unknown:
        await catalog.resolve_price("PLAN_X", T0)
    assert unknown.value.context["reasons"] == ["unknown offering"]
    price = await catalog.resolve_price("PLAN_M", T0)
    assert price.model_dump() == {"offering_id": "PLAN_M", "price_id": "POP_PLAN_M_1", "price_minor": 2500,
                                  "currency": "SGD", "price_type": PriceType.RECURRING, "period_days": 30}


async def test_set_price_lowest_active_wins_from_its_start_and_higher_ones_never_win(seeded_api, seeded_db):
    lower = await seeded_api.post(PRICES, json=price_body(value=20.0, start=T0 + 10 * DAY))
    higher = await seeded_api.post(PRICES, json=price_body(value=30.0, start=T0 + DAY))
    assert (lower.status_code, higher.status_code) == (201, 201)
    assert (lower.json()["id"], higher.json()["id"]) == ("POP_PLAN_M_2", "POP_PLAN_M_3")
    assert (await catalog.resolve_price("PLAN_M", T0 + 2 * DAY)).price_id == "POP_PLAN_M_1"
    assert (await catalog.resolve_price("PLAN_M", T0 + 10 * DAY - dt.timedelta(seconds=1))).price_minor == 2500
    assert (await catalog.resolve_price("PLAN_M", T0 + 10 * DAY)).price_minor == 2000
    assert (await seeded_api.get(f"{OFFERINGS}/PLAN_M")).json()["activePrice"]["id"] == "POP_PLAN_M_1"
    clock.advance(10 * DAY)
    now = (await seeded_api.get(f"{OFFERINGS}/PLAN_M")).json()
    assert now["activePrice"]["priceMinor"] == 2000
    assert [p["id"] for p in now["productOfferingPrice"]] == ["POP_PLAN_M_1", "POP_PLAN_M_3", "POP_PLAN_M_2"]
    async with seeded_db.connect() as conn:
        events = (await conn.execute(select(domain_event.c.event_type, domain_event.c.aggregate_id).where(
            domain_event.c.event_type == "catalog.price.created").order_by(domain_event.c.id))).all()
    assert events == [("catalog.price.created", "POP_PLAN_M_2"), ("catalog.price.created", "POP_PLAN_M_3")]


async def test_a_promo_window_wins_while_it_lasts(seeded_api):
    promo = price_body(value=15.0, start=T0 + DAY)
    promo["validFor"]["endDateTime"] = iso(T0 + 3 * DAY)
    assert (await seeded_api.post(PRICES, json=promo)).status_code == 201
    assert [(await catalog.resolve_price("PLAN_M", T0 + n * DAY)).price_minor for n in (0, 1, 2, 3)] == [
        2500, 1500, 1500, 2500]


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"price": {"unit": "SGD", "value": 20.001}}, 400, "request.malformed"),
    ({"colour": "red"}, 400, "request.malformed"),
    ({"recurringChargePeriodLength": None}, 400, "request.malformed"),
    ({"validFor": {"startDateTime": "2026-03-20T00:00:00"}}, 400, "request.malformed"),
    ({"price": {"unit": "SGD", "value": -1}}, 400, "request.malformed"),
    ({"priceType": "oneTime", "recurringChargePeriodType": None, "recurringChargePeriodLength": None}, 422,
     "catalog.price.type_matches_kind"),
    ({"recurringChargePeriodLength": 7}, 422, "catalog.price.period_30_days"),
    ({"price": {"unit": "USD", "value": 20}}, 422, "catalog.price.currency_supported"),
    ({"validFor": {"startDateTime": iso(T0 - DAY)}}, 422, "catalog.price.window_valid"),
    ({"validFor": {"startDateTime": iso(T0 + 2 * DAY), "endDateTime": iso(T0 + DAY)}}, 422,
     "catalog.price.window_valid"),
    ({"productOffering": {"id": "PLAN_X"}}, 404, "product_offering.not_found"),
])
async def test_bad_prices_are_refused_and_write_nothing(seeded_api, seeded_db, change, status, code):
    before = await counts(seeded_db)
    assert_error(await seeded_api.post(PRICES, json=price_body() | change), status, code)
    assert await counts(seeded_db) == before


async def test_add_offering_creates_an_unpriced_plan_that_sells_once_priced(seeded_api, seeded_db):
    created = await seeded_api.post(OFFERINGS, json=PLAN_XL)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["id"], body["sellableNow"], body["validFor"]) == ("PLAN_XL", False, {"startDateTime": iso(T0)})
    assert "activePrice" not in body and body["productSpecification"]["id"] == "SPEC_MOBILE_BUNDLE"
    assert (await seeded_api.post(PRICES, json=price_body("PLAN_XL", 65.0, start=None))).status_code == 201
    assert (await seeded_api.get(f"{OFFERINGS}/PLAN_XL")).json()["activePrice"]["priceMinor"] == 6500
    assert (await catalog.resolve_price("PLAN_XL", T0)).price_id == "POP_PLAN_XL_1"
    allowances = {a.allowance_type: (a.quantity, a.unit) for a in await catalog.offering_allowances("PLAN_XL")}
    assert allowances == {AllowanceType.DATA: (307200, "MB"), AllowanceType.VOICE: (-1, "s"),
                          AllowanceType.SMS: (-1, "sms"), AllowanceType.DATA_ROAMING: (5120, "MB")}
    async with seeded_db.connect() as conn:
        events = (await conn.execute(select(domain_event.c.event_type).where(
            domain_event.c.aggregate_id.in_(["PLAN_XL", "POP_PLAN_XL_1"])).order_by(domain_event.c.id))).scalars()
        assert list(events) == ["catalog.offering.created", "catalog.price.created"]


async def test_add_vas_with_a_duration_derives_its_id_and_restores_data(seeded_api):
    created = await seeded_api.post(OFFERINGS, json=VAS_NIGHT)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == "VAS_NIGHT_OWL_2H"
    view = await catalog.get_offering("VAS_NIGHT_OWL_2H")
    assert (view.kind, view.vas_expiry, view.vas_duration_seconds, view.restores_data) == (
        OfferingKind.VAS, VasExpiry.DURATION, 7200, True)
    assert created.json()["productOfferingTerm"][0]["description"] == "Lasts 2 h from purchase"
    with pytest.raises(NotFound):
        await catalog.get_offering("VAS_NOPE")
    with pytest.raises(NotFound):
        await catalog.offering_allowances("VAS_NOPE")


@pytest.mark.parametrize(("body", "status", "code"), [
    (PLAN_XL | {"id": "PLAN_M"}, 422, "catalog.offering.id_unique"),
    (VAS_NIGHT | {"name": "½ ¾"}, 422, "catalog.offering.id_valid"),
    (PLAN_XL | {"category": [{"id": "PLANS"}, {"id": "GADGETS"}]}, 422, "catalog.offering.category_exists"),
    (PLAN_XL | {"category": [{"id": "PLANS"}, {"id": "VAS"}]}, 422, "catalog.offering.kind_from_category"),
    (PLAN_XL | {"prodSpecCharValueUse": PLAN_XL["prodSpecCharValueUse"][:2]}, 422, "catalog.offering.allowances_valid"),
    (PLAN_XL | {"prodSpecCharValueUse": [allowance("data", 1, "GB")] + PLAN_XL["prodSpecCharValueUse"][1:]}, 422,
     "catalog.offering.allowances_valid"),
    (PLAN_XL | {"productSpecification": {"id": "SPEC_X"}}, 422, "catalog.offering.specification_exists"),
    (PLAN_XL | {"validFor": {"startDateTime": iso(T0), "endDateTime": iso(T0)}}, 422, "catalog.offering.window_valid"),
    (VAS_NIGHT | {"productOfferingTerm": []}, 422, "catalog.offering.vas_expiry_valid"),
    (PLAN_XL | {"productOfferingTerm": [{"name": "endOfPeriod"}]}, 422, "catalog.offering.vas_expiry_valid"),
    (PLAN_XL | {"productOfferingTerm": [{"name": "renewalPeriod", "duration": {"amount": 7, "units": "day"}}]}, 400,
     "request.malformed"),
    (PLAN_XL | {"colour": "red"}, 400, "request.malformed"),
    (PLAN_XL | {"prodSpecCharValueUse": [allowance("data", "lots", "MB")]}, 400, "request.malformed"),
    (PLAN_XL | {"prodSpecCharValueUse": [allowance("minutes", 1, "s")]}, 400, "request.malformed"),
    ({"name": "No category"}, 422, "catalog.offering.allowances_valid"),  # a plan by default (#17 item 2)
    (PLAN_XL | {"lifecycleStatus": "Retired"}, 422, "catalog.offering.attribute_unsupported"),  # spec: free text
])
async def test_bad_offerings_are_refused_and_write_nothing(seeded_api, seeded_db, body, status, code):
    before = await counts(seeded_db)
    assert_error(await seeded_api.post(OFFERINGS, json=body), status, code)
    assert await counts(seeded_db) == before


async def test_concurrent_adds_of_one_id_let_exactly_one_win(seeded_api, seeded_db):
    responses = await asyncio.gather(*(seeded_api.post(OFFERINGS, json=PLAN_XL) for _ in range(4)))
    assert sorted(r.status_code for r in responses) == [201, 422, 422, 422]
    assert {r.json()["code"] for r in responses if r.status_code == 422} == {"catalog.offering.id_unique"}
    assert (await counts(seeded_db))["catalog.bundle_allowance"] == 16 + 4


async def test_window_ends_sales_and_retire_closes_the_window_for_good(seeded_api, seeded_db):
    ended = await seeded_api.patch(f"{OFFERINGS}/PLAN_S", json={"validFor": {"endDateTime": iso(T0 + 5 * DAY)}})
    assert ended.status_code == 200 and ended.json()["validFor"]["endDateTime"] == iso(T0 + 5 * DAY)
    assert (await catalog.resolve_price("PLAN_S", T0 + 4 * DAY)).price_minor == 1000
    with pytest.raises(PolicyViolation) as refused:
        await catalog.resolve_price("PLAN_S", T0 + 5 * DAY)
    assert refused.value.context["reasons"] == ["no longer valid"]
    retired = (await seeded_api.patch(f"{OFFERINGS}/PLAN_L", json={"lifecycleStatus": "Retired"})).json()
    assert (retired["lifecycleStatus"], retired["sellableNow"], retired["validFor"]["endDateTime"]) == (
        "Retired", False, iso(T0))
    async with seeded_db.connect() as conn:
        events = (await conn.execute(select(domain_event.c.event_type).where(
            domain_event.c.aggregate_type == "product_offering").order_by(domain_event.c.id))).scalars()
        assert list(events) == ["catalog.offering.updated", "catalog.offering.retired"]
    before = await counts(seeded_db)
    assert_error(await seeded_api.patch(f"{OFFERINGS}/PLAN_L", json={"name": "Max 2"}), 422,
                 "catalog.offering.retired_is_immutable")
    assert_error(await seeded_api.patch(f"{OFFERINGS}/PLAN_M", json={"lifecycleStatus": "In design"}), 422,
                 "product_offering.transition.invalid")
    assert_error(await seeded_api.patch(f"{OFFERINGS}/PLAN_M", json={"validFor": {"endDateTime": iso(T0 - DAY)}}),
                 422, "catalog.offering.window_valid")
    assert_error(await seeded_api.patch(f"{OFFERINGS}/PLAN_M", json={"validFor": {"startDateTime": iso(T0)}}),
                 422, "catalog.offering.window_valid")
    assert_error(await seeded_api.patch(f"{OFFERINGS}/PLAN_M", json={"name": None}), 400, "request.malformed")
    assert_error(await seeded_api.patch(f"{OFFERINGS}/PLAN_M", json={"kind": "vas"}), 400, "request.malformed")
    assert_error(await seeded_api.patch(f"{OFFERINGS}/PLAN_X", json={"name": "x"}), 404, "product_offering.not_found")
    assert await counts(seeded_db) == before


async def test_a_price_version_only_ever_has_its_end_moved(seeded_api, seeded_db):
    closed = await seeded_api.patch(f"{PRICES}/POP_PLAN_M_1", json={"validFor": {"endDateTime": iso(T0 + DAY)}})
    assert closed.status_code == 200 and closed.json()["validFor"]["endDateTime"] == iso(T0 + DAY)
    before = await counts(seeded_db)
    assert_error(await seeded_api.patch(f"{PRICES}/POP_PLAN_M_1", json={"price": {"unit": "SGD", "value": 1}}), 422,
                 "catalog.price.immutable")
    assert_error(await seeded_api.patch(f"{PRICES}/POP_PLAN_M_1", json={"validFor": {"startDateTime": iso(T0)}}),
                 422, "catalog.price.immutable")
    assert_error(await seeded_api.patch(f"{PRICES}/POP_PLAN_M_1", json={"validFor": {"endDateTime": iso(T0 - DAY)}}),
                 422, "catalog.price.window_valid")
    assert_error(await seeded_api.patch(f"{PRICES}/POP_X", json={"name": "x"}), 404, "product_offering_price.not_found")
    assert await counts(seeded_db) == before
    clock.advance(DAY)
    assert (await seeded_api.get(f"{PRICES}/POP_PLAN_M_1")).json()["lifecycleStatus"] == "Retired"
    assert_error(await seeded_api.patch(f"{PRICES}/POP_PLAN_M_1", json={"validFor": {"endDateTime": None}}), 422,
                 "catalog.price.window_valid")


async def test_migrate_price_schedules_the_new_version_after_notice(seeded_api, seeded_db):
    body = {"offeringId": "PLAN_M", "price": {"unit": "SGD", "value": 28.0}, "noticeDays": 30}
    created = await seeded_api.post(MIGRATIONS, json=body)
    assert created.status_code == 201, created.text
    migration = created.json()
    assert (migration["id"], migration["state"], migration["effectiveFrom"]) == (
        "PMIG_PLAN_M_1", "scheduled", iso(T0 + 30 * DAY))
    assert (migration["fromPrice"]["id"], migration["fromPrice"]["priceMinor"]) == ("POP_PLAN_M_1", 2500)
    assert (migration["toPrice"]["id"], migration["toPrice"]["price"]) == ("POP_PLAN_M_2", {"unit": "SGD", "value": 28.0})
    old = (await seeded_api.get(f"{PRICES}/POP_PLAN_M_1")).json()
    assert old["validFor"]["endDateTime"] == iso(T0 + 30 * DAY)
    assert (await catalog.resolve_price("PLAN_M", T0 + 29 * DAY)).price_minor == 2500
    assert (await catalog.resolve_price("PLAN_M", T0 + 30 * DAY)).price_minor == 2800
    assert await catalog.due_price_migration("PLAN_M", T0 + 29 * DAY, "POP_PLAN_M_1") is None
    due = await catalog.due_price_migration("PLAN_M", T0 + 31 * DAY, "POP_PLAN_M_1")
    assert (due.id, due.to_price_id, due.to_price_minor, due.notice_days) == ("PMIG_PLAN_M_1", "POP_PLAN_M_2", 2800, 30)
    assert await catalog.due_price_migration("PLAN_M", T0 + 31 * DAY, "POP_PLAN_M_2") is None
    listed = await seeded_api.get(MIGRATIONS, params={"offeringId": "PLAN_M"})
    assert [m["id"] for m in listed.json()] == ["PMIG_PLAN_M_1"] and listed.headers["X-Total-Count"] == "1"
    before = await counts(seeded_db)
    assert_error(await seeded_api.post(MIGRATIONS, json=body | {"price": {"unit": "SGD", "value": 29}}), 422,
                 "catalog.migration.already_pending")
    assert await counts(seeded_db) == before


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"noticeDays": 10}, 422, "catalog.migration.notice_at_least_30_days"),
    ({"effectiveFrom": iso(T0 + 5 * DAY)}, 422, "catalog.migration.effective_after_notice"),
    ({"price": {"unit": "SGD", "value": 25}}, 422, "catalog.migration.price_changes"),
    ({"price": {"unit": "EUR", "value": 30}}, 422, "catalog.price.currency_supported"),
    ({"offeringId": "PLAN_X"}, 404, "product_offering.not_found"),
    ({"noticeDays": "soon"}, 400, "request.malformed"),
    ({"colour": "red"}, 400, "request.malformed"),
])
async def test_bad_migrations_are_refused_and_write_nothing(seeded_api, seeded_db, change, status, code):
    before = await counts(seeded_db)
    body = {"offeringId": "PLAN_M", "price": {"unit": "SGD", "value": 28.0}, "noticeDays": 30} | change
    assert_error(await seeded_api.post(MIGRATIONS, json=body), status, code)
    assert await counts(seeded_db) == before
