"""TMF620 writes of #17 items 2-3 over real HTTP: productSpecification POST/PATCH, retiring an offering by
DELETE, and the spec's minimal offering, price and top-up bodies (defaults, or a 422 saying what is missing).

Every response is validated against the official v4 schema by the test client.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.settings import get_settings
from tests.api.test_spec_minimal_bodies import CASES, Ctx, create_validator, documented, spec_value
from tests.conftest import client_for
from tests.support.factories import order_body, ready_customer
from tests.workflows.order_helpers import place_order, wait_order

BASE = "/tmf-api/productCatalogManagement/v4"
SPEC, OFFERING, PRICE = f"{BASE}/productSpecification", f"{BASE}/productOffering", f"{BASE}/productOfferingPrice"
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
TOPUP = "/tmf-api/prepayBalanceManagement/v4/topupBalance"
ZERO_PLAN = [{"name": name, "productSpecCharacteristicValue": [{"value": 0, "unitOfMeasure": unit}]}
             for name, unit in (("data", "MB"), ("voice", "s"), ("sms", "sms"), ("data_roaming", "MB"))]


async def probe_optional_attributes(api, route: str, label: str,
                                    vary: Callable[[str], dict] | None = None) -> dict[str, str | None]:
    """Add each optional attribute of a `CASES` body's `*_Create` schema alone (its smallest spec value), all in
    one database; every answer is 201 or a documented 422, never 400. `vary(attribute)` gives what each probe
    changes on the case's body so probes do not collide (default: its own name). Return attribute -> the
    422's rule code, or None when it was accepted (kept or ignored)."""
    case = next(c for c in CASES if c.route == route and c.label == label)
    spec = json.loads((get_settings().tmf_specs_dir / case.spec).read_text())
    definition = spec["definitions"][case.definition]
    vary = vary or (lambda attribute: {"name": f"Probe {attribute}"})
    outcomes: dict[str, str | None] = {}
    for name in sorted(set(definition["properties"]) - set(definition.get("required", [])) - case.extra):
        body = await case.body(Ctx(api)) | vary(name)
        if name in body:
            continue  # the variation itself (usage's characteristics)
        body[name] = spec_value(spec, definition["properties"][name])
        assert not list(create_validator(case.spec, case.definition).iter_errors(body)), name
        response = await api.post(route, json=body)
        assert response.status_code in (201, 422), (name, response.text)
        outcomes[name] = response.json()["code"] if response.status_code == 422 else None
        assert outcomes[name] is None or documented(outcomes[name]), (name, response.text)
    return outcomes


def accepted(outcomes: dict[str, str | None]) -> set[str]:
    """The probed attributes that were accepted."""
    return {name for name, code in outcomes.items() if code is None}


def assert_refused(response, status: int, code: str) -> dict:
    """The response is the TMF error `code` with `status`; return its body."""
    assert (response.status_code, response.json().get("code")) == (status, code), response.text
    return response.json()


async def audit(db: AsyncEngine, aggregate_id: str) -> list[str]:
    """The audit event types recorded for an aggregate, oldest first."""
    async with db.connect() as conn:
        found = await conn.execute(text("SELECT event_type FROM audit.domain_event WHERE aggregate_id = :a"
                                        " ORDER BY id"), {"a": aggregate_id})
        return list(found.scalars())


async def test_a_specification_is_created_changed_launched_and_retired_once_no_offering_stands_on_it(
        seeded_api, seeded_db):
    made = await seeded_api.post(SPEC, json={"name": "5G bundle", "description": "A 5G prepaid line",
                                             "lifecycleStatus": "In design", "lastUpdate": "2020-01-01T00:00:00Z"})
    assert made.status_code == 201, made.text
    spec = made.json()
    assert (spec["id"], spec["lifecycleStatus"], spec["description"]) == ("SPEC_5G_BUNDLE", "In design",
                                                                          "A 5G prepaid line")
    assert {c["name"] for c in spec["productSpecCharacteristic"]} == {"data", "voice", "sms", "data_roaming"}
    assert (await seeded_api.get(f"{SPEC}/SPEC_5G_BUNDLE")).json()["name"] == "5G bundle"
    assert_refused(await seeded_api.post(SPEC, json={"name": "5G bundle"}), 422, "catalog.specification.id_unique")
    assert_refused(await seeded_api.post(SPEC, json={"name": "☃"}), 422, "catalog.specification.id_valid")
    odd = assert_refused(await seeded_api.post(SPEC, json={"name": "Odd", "brand": "Acme", "productSpecCharacteristic": [
        {"name": "colour"}]}), 422, "catalog.specification.attribute_unsupported")
    assert odd["context"]["attributes"] == ["brand", "productSpecCharacteristic"]

    for patch in ({"brand": "Acme"}, {"lifecycleStatus": "Obsolete"}):
        assert_refused(await seeded_api.patch(f"{SPEC}/SPEC_5G_BUNDLE", json=patch), 422,
                       "catalog.specification.attribute_unsupported")
    renamed = await seeded_api.patch(f"{SPEC}/SPEC_5G_BUNDLE", json={"name": "5G mobile bundle"})
    assert (renamed.status_code, renamed.json()["name"]) == (200, "5G mobile bundle")
    launched = await seeded_api.patch(f"{SPEC}/SPEC_5G_BUNDLE", json={"lifecycleStatus": "Active"})
    assert launched.json()["lifecycleStatus"] == "Active"
    offering = await seeded_api.post(OFFERING, json={"id": "PLAN_5G", "name": "5G Lite", "productSpecification": {
        "id": "SPEC_5G_BUNDLE"}, "prodSpecCharValueUse": ZERO_PLAN})
    assert offering.status_code == 201, offering.text
    assert offering.json()["productSpecification"]["id"] == "SPEC_5G_BUNDLE"
    assert offering.json()["category"][0]["id"] == "PLANS"  # no category: a plan, by default

    in_use = assert_refused(await seeded_api.patch(f"{SPEC}/SPEC_5G_BUNDLE", json={"lifecycleStatus": "Retired"}),
                            422, "catalog.specification.in_use")
    assert in_use["context"]["offerings"] == ["PLAN_5G"]
    assert (await seeded_api.delete(f"{OFFERING}/PLAN_5G")).status_code == 204
    retired = await seeded_api.patch(f"{SPEC}/SPEC_5G_BUNDLE", json={"lifecycleStatus": "Retired"})
    assert (retired.status_code, retired.json()["lifecycleStatus"]) == (200, "Retired")
    assert_refused(await seeded_api.patch(f"{SPEC}/SPEC_5G_BUNDLE", json={"description": "back"}), 422,
                   "catalog.specification.retired_is_immutable")
    assert_refused(await seeded_api.patch(f"{SPEC}/SPEC_5G_BUNDLE", json={"lifecycleStatus": "Active"}), 422,
                   "product_specification.transition.invalid")
    assert_refused(await seeded_api.post(OFFERING, json={"name": "5G Max", "productSpecification": {
        "id": "SPEC_5G_BUNDLE"}, "prodSpecCharValueUse": ZERO_PLAN}), 422, "catalog.offering.specification_retired")
    assert_refused(await seeded_api.patch(f"{SPEC}/SPEC_NOPE", json={"name": "x"}), 404,
                   "product_specification.not_found")
    assert await audit(seeded_db, "SPEC_5G_BUNDLE") == [
        "catalog.specification.created", "catalog.specification.updated", "catalog.specification.launched",
        "catalog.specification.retired"]


async def test_only_catalog_admins_write_specifications(api_url, seeded_api):
    async with client_for(api_url, "portal-csr") as csr:
        assert_refused(await csr.post(SPEC, json={"name": "CSR spec"}), 403, "auth.scope.denied")
        assert_refused(await csr.patch(f"{SPEC}/SPEC_MOBILE_BUNDLE", json={"name": "x"}), 403, "auth.scope.denied")
        assert_refused(await csr.delete(f"{OFFERING}/PLAN_S"), 403, "auth.scope.denied")
    assert (await seeded_api.get(f"{SPEC}/SPEC_MOBILE_BUNDLE")).json()["name"] != "x"


async def test_delete_retires_an_offering_whose_line_lives_on_and_that_can_no_longer_be_sold(
        seeded_api, seeded_db, worker):
    order = await place_order(seeded_api, await ready_customer(seeded_api), offering_id="PLAN_S")
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "completed", done
    line = done["productOrderItem"][0]["product"]["id"]

    assert (await seeded_api.delete(f"{OFFERING}/PLAN_S")).status_code == 204
    shown = (await seeded_api.get(f"{OFFERING}/PLAN_S")).json()
    assert (shown["lifecycleStatus"], shown["sellableNow"]) == ("Retired", False)
    assert "endDateTime" in shown["validFor"]  # retiring ends the window now
    assert (await seeded_api.delete(f"{OFFERING}/PLAN_S")).status_code == 204  # again: nothing changes
    assert (await audit(seeded_db, "PLAN_S")).count("catalog.offering.retired") == 1
    product = (await seeded_api.get(f"/tmf-api/productInventory/v4/product/{line}")).json()
    assert (product["productOffering"]["id"], product["status"]) == ("PLAN_S", "active")
    again = await seeded_api.post(ORDER, json=order_body(await ready_customer(seeded_api), "PLAN_S"))
    assert_refused(again, 422, "order.create.offering_sellable_now")
    # The line lives on: it still tops up (TMF654 Quantity: units default to MB, the amount cannot be guessed).
    bucket = {"id": f"{line}-data"}
    assert_refused(await seeded_api.post(TOPUP, json={"bucket": bucket, "amount": {}}), 422,
                   "subscription.vas_purchase.amount_required")
    topped = await seeded_api.post(TOPUP, json={"bucket": bucket, "amount": {"amount": 1024}})
    assert (topped.status_code, topped.json()["amount"]) == (201, {"amount": 1, "units": "GB"}), topped.text

    designed = await seeded_api.post(OFFERING, json={"id": "PLAN_DRAFT", "name": "Draft", "lifecycleStatus":
                                                     "In design", "prodSpecCharValueUse": ZERO_PLAN})
    assert designed.status_code == 201, designed.text
    assert_refused(await seeded_api.delete(f"{OFFERING}/PLAN_DRAFT"), 422, "product_offering.transition.invalid")
    assert_refused(await seeded_api.delete(f"{OFFERING}/PLAN_NOPE"), 404, "product_offering.not_found")


async def test_an_offering_without_category_takes_its_kind_from_its_specification(seeded_api):
    vas = await seeded_api.post(OFFERING, json={
        "name": "Data 2GB", "productSpecification": {"id": "SPEC_ALLOWANCE_ADDON"},
        "prodSpecCharValueUse": [{"name": "data", "productSpecCharacteristicValue": [
            {"value": 2048, "unitOfMeasure": "MB"}]}], "productOfferingTerm": [{"name": "endOfPeriod"}]})
    assert vas.status_code == 201, vas.text
    assert (vas.json()["id"], [c["id"] for c in vas.json()["category"]]) == ("VAS_DATA_2GB", ["VAS"])
    plan = assert_refused(await seeded_api.post(OFFERING, json={"name": "Bare"}), 422,
                          "catalog.offering.allowances_valid")
    assert plan["violations"][0]["context"]["missing"] == ["data", "data_roaming", "sms", "voice"]


async def test_spec_attributes_we_do_not_keep_are_named_in_a_422_and_write_nothing(seeded_api, seeded_db):
    plan = {"name": "Kopi Plan", "prodSpecCharValueUse": ZERO_PLAN}
    for extra, attributes in (({"channel": [{"id": "web"}], "version": "2"}, ["version", "channel"]),
                              ({"lifecycleStatus": "Launched", "@type": "BundledOffering"}, ["@type", "lifecycleStatus"]),
                              ({"productOfferingTerm": [{"name": "commitment"}]}, ["productOfferingTerm"])):
        refused = assert_refused(await seeded_api.post(OFFERING, json=plan | extra), 422,
                                 "catalog.offering.attribute_unsupported")
        assert refused["context"]["attributes"] == attributes
    ignored = await seeded_api.post(OFFERING, json=plan | {"lastUpdate": "2020-01-01T00:00:00Z", "@baseType": "x"})
    assert (ignored.status_code, ignored.json()["id"]) == (201, "PLAN_KOPI_PLAN"), ignored.text
    price = {"name": "Promo", "productOffering": {"id": "PLAN_M"}, "price": {"value": 20}}
    taxed = assert_refused(await seeded_api.post(PRICE, json=price | {"tax": [{"taxRate": 9}], "description": "x"}),
                           422, "catalog.price.attribute_unsupported")
    assert taxed["context"]["attributes"] == ["description", "tax"]
    assert_refused(await seeded_api.post(PRICE, json=price | {"priceType": "usage"}), 422,
                   "catalog.price.type_matches_kind")
    assert_refused(await seeded_api.post(PRICE, json=price | {"recurringChargePeriodType": "month"}), 422,
                   "catalog.price.period_30_days")
    async with seeded_db.connect() as conn:
        prices = (await conn.execute(text("SELECT count(*) FROM catalog.product_offering_price"
                                          " WHERE offering_id = 'PLAN_M'"))).scalar_one()
    assert prices == 1


async def test_each_optional_create_attribute_is_kept_ignored_or_a_documented_422_never_a_400(seeded_api):
    ignored = {"@baseType", "@schemaLocation", "lastUpdate", "isBundle"}  # isBundle: false, what we are
    assert accepted(await probe_optional_attributes(seeded_api, OFFERING, "plan")) == ignored | {
        "description", "isSellable", "validFor"}
    assert accepted(await probe_optional_attributes(seeded_api, PRICE, "priced")) == ignored | {"validFor"}
    assert accepted(await probe_optional_attributes(seeded_api, SPEC, "minimal")) == ignored | {"description"}


async def test_a_price_defaults_its_type_period_and_currency_and_needs_its_offering_and_amount(seeded_api, seeded_db):
    one_time = await seeded_api.post(PRICE, json={"name": "Cheaper 1GB", "productOffering": {"id": "VAS_DATA_1GB"},
                                                  "price": {"value": 2.5}})
    assert one_time.status_code == 201, one_time.text
    assert (one_time.json()["priceType"], one_time.json()["price"]) == ("oneTime", {"unit": "SGD", "value": 2.5})
    assert "recurringChargePeriodLength" not in one_time.json()
    recurring = await seeded_api.post(PRICE, json={"name": "Standard 24", "productOffering": {"id": "PLAN_M"},
                                                   "price": {"value": 24}})
    assert (recurring.json()["priceType"], recurring.json()["recurringChargePeriodLength"]) == ("recurring", 30)
    async with seeded_db.connect() as conn:
        before = (await conn.execute(text("SELECT count(*) FROM catalog.product_offering_price"))).scalar_one()
    nothing = assert_refused(await seeded_api.post(PRICE, json={"name": "x"}), 422, "catalog.price.offering_required")
    assert [v["code"] for v in nothing["violations"]] == ["catalog.price.offering_required",
                                                          "catalog.price.amount_required"]
    assert_refused(await seeded_api.post(PRICE, json={"name": "x", "productOffering": {"id": "PLAN_M"},
                                                      "price": {"unit": "SGD"}}), 422, "catalog.price.amount_required")
    assert_refused(await seeded_api.post(PRICE, json={"name": "x", "price": {"value": 1}}), 422,
                   "catalog.price.offering_required")
    async with seeded_db.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM catalog.product_offering_price"))).scalar_one() == before


async def run_json(bss, *args: str):
    result = await bss(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_the_cli_adds_updates_and_retires_specifications_and_retires_an_offering(seeded_api, bss):
    made = await run_json(bss, "catalog", "admin", "add-spec", "--name", "Senior bundle", "--in-design")
    assert (made["id"], made["lifecycleStatus"]) == ("SPEC_SENIOR_BUNDLE", "In design")
    launched = await run_json(bss, "catalog", "admin", "update-spec", "SPEC_SENIOR_BUNDLE", "--launch",
                              "--description", "For customers over 65")
    assert (launched["lifecycleStatus"], launched["description"]) == ("Active", "For customers over 65")
    nothing = await bss("catalog", "admin", "update-spec", "SPEC_SENIOR_BUNDLE")
    assert nothing.exit_code == 2 and "say what changes" in nothing.output
    busy = await bss("catalog", "admin", "update-spec", "SPEC_MOBILE_BUNDLE", "--retire")
    assert busy.exit_code == 2 and "catalog.specification.in_use" in busy.output
    retired = await run_json(bss, "catalog", "admin", "retire", "VAS_ROAMING_1GB", "--yes")
    assert (retired["id"], retired["lifecycleStatus"]) == ("VAS_ROAMING_1GB", "Retired")
    card = await bss("catalog", "admin", "retire", "VAS_DATA_5GB", "--yes")
    assert card.exit_code == 0 and "VAS_DATA_5GB" in card.stdout, card.output
