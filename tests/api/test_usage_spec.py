"""TMF635 `usageSpecification` create (#17 item 3) and usage without `usageType` (#17 item 2), over real HTTP.

A usage event whose number has no line is recorded as rejected with its usage type, so the type a
specification gave it is visible without running an order (GET /usage/{id} of the rejection).
Every response is validated against the official v4 schema by the test client.
"""

from __future__ import annotations

import json

from sqlalchemy import text

from tests.api.test_catalog_spec_new import accepted, probe_optional_attributes
from tests.conftest import client_for

BASE = "/tmf-api/usageManagement/v4"
SPECS, USAGE = f"{BASE}/usageSpecification", f"{BASE}/usage"


def rated_as(value: object) -> list[dict]:
    """The `specCharacteristic` saying how a specification's events are rated."""
    return [{"name": "usageType", "characteristicValueSpecification": [{"value": value}]}]


def assert_refused(response, status: int, code: str) -> dict:
    """The response is the TMF error `code` with `status`; return its body."""
    assert (response.status_code, response.json().get("code")) == (status, code), response.text
    return response.json()


def event(event_id: str, **body: object) -> dict:
    """A usage event on a number without a line (always recorded as rejected)."""
    return {"usageCharacteristic": [{"name": "msisdn", "value": "80000001"}, {"name": "quantity", "value": 3},
                                    {"name": "eventId", "value": event_id}], **body}


async def test_a_usage_specification_is_created_listed_and_refused_without_what_it_needs(seeded_api, seeded_db):
    made = await seeded_api.post(SPECS, json={"name": "5G data session", "description": "Standalone 5G data",
                                              "version": "1.0", "specCharacteristic": rated_as("data"),
                                              "@type": "UsageSpecification"})
    assert made.status_code == 201, made.text
    spec = made.json()
    assert (spec["id"], spec["version"], spec["specCharacteristic"][0]["characteristicValueSpecification"][0]["value"]
            ) == ("USPEC_1", "1.0", "data")
    listed = await seeded_api.get(SPECS)
    assert [s["id"] for s in listed.json()] == ["USPEC_DATA", "USPEC_VOICE", "USPEC_SMS", "USPEC_1"]
    assert listed.headers["X-Total-Count"] == "4"
    assert (await seeded_api.get(SPECS, params={"name": "5G data session"})).json()[0]["id"] == "USPEC_1"
    assert (await seeded_api.get(f"{SPECS}/USPEC_1")).json()["description"] == "Standalone 5G data"

    for body in ({"name": "5G data session", "specCharacteristic": rated_as("voice")},
                 {"name": "Mobile SMS", "specCharacteristic": rated_as("sms")}):  # a built-in's name
        assert_refused(await seeded_api.post(SPECS, json=body), 422, "usage_specification.create.name_unique")
    for characteristic in ([], rated_as("video"), rated_as({"kind": "data"})):
        assert_refused(await seeded_api.post(SPECS, json={"name": "Video", "specCharacteristic": characteristic}),
                       422, "usage_specification.create.usage_type_required")
    assert_refused(await seeded_api.post(SPECS, json={"specCharacteristic": rated_as("data")}), 422,
                   "usage_specification.create.name_required")
    unsupported = assert_refused(await seeded_api.post(SPECS, json={
        "name": "Video", "specCharacteristic": rated_as("data"), "validFor": {}, "lifecycleStatus": "retired"}),
        422, "usage_specification.create.attribute_unsupported")
    assert unsupported["context"]["attributes"] == ["validFor", "lifecycleStatus"]
    async with seeded_db.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM mediation.usage_specification"))).scalar_one() == 1
        audited = await conn.execute(text("SELECT event_type FROM audit.domain_event WHERE aggregate_id = 'USPEC_1'"))
        assert list(audited.scalars()) == ["usage_specification.created"]
    async with client_for(str(seeded_api.base_url), "portal-csr") as csr:
        assert_refused(await csr.post(SPECS, json={"name": "CSR", "specCharacteristic": rated_as("data")}), 403,
                       "auth.scope.denied")


async def test_usage_without_usage_type_takes_it_from_its_specification(seeded_api):
    await seeded_api.post(SPECS, json={"name": "VoLTE call", "specCharacteristic": rated_as("voice")})
    for event_id, spec_id, usage_type in (("e-volte", "USPEC_1", "voice"), ("e-sms", "USPEC_SMS", "sms")):
        refused = assert_refused(await seeded_api.post(USAGE, json=event(event_id, usageSpecification={
            "id": spec_id, "@referredType": "UsageSpecification"})), 422, "usage.record.unknown_msisdn")
        recorded = (await seeded_api.get(f"{USAGE}/{refused['context']['usage_id']}")).json()
        assert (recorded["usageType"], recorded["status"]) == (usage_type, "rejected")
    assert_refused(await seeded_api.post(USAGE, json=event("e-none", usageSpecification={"id": "USPEC_NOPE"})), 422,
                   "usage.record.specification_known")
    both = await seeded_api.post(USAGE, json=event("e-both", usageType="voice", usageSpecification={"id": "USPEC_1"}))
    assert_refused(both, 422, "usage.record.unknown_msisdn")  # they agree: rated (here refused) as voice
    assert_refused(await seeded_api.post(USAGE, json=event("e-mismatch", usageType="sms", usageSpecification={
        "id": "USPEC_1"})), 422, "usage.record.usage_type_matches_specification")
    assert_refused(await seeded_api.post(USAGE, json=event("e-untyped")), 422, "usage.record.usage_type_required")
    missing = assert_refused(await seeded_api.post(USAGE, json={"usageType": "data"}), 422,
                             "usage.record.characteristic_required")
    assert missing["context"]["missing"] == ["msisdn", "quantity", "eventId"]
    for unwritten in ("e-none", "e-mismatch", "e-untyped"):  # refused before mediation: no record
        assert (await seeded_api.get(USAGE, params={"eventId": unwritten})).json() == []


async def test_each_optional_create_attribute_is_kept_ignored_or_a_documented_422_never_a_400(seeded_api):
    assert accepted(await probe_optional_attributes(seeded_api, SPECS, "rated as data")) == {
        "@baseType", "@schemaLocation", "lastUpdate", "isBundle", "description", "version"}
    # A usage event on a number without a line is refused (recorded as rejected) whatever else it carries, so
    # each optional attribute of Usage_Create reaching mediation shows it was parsed, not refused with a 400.
    outcomes = await probe_optional_attributes(seeded_api, USAGE, "minimal",
                                               lambda attribute: event(f"probe-{attribute}", usageType="data"))
    assert outcomes == {name: "usage.record.unknown_msisdn" for name in (
        "@baseType", "@schemaLocation", "@type", "description", "ratedProductUsage", "relatedParty", "status",
        "usageDate")} | {"usageSpecification": "usage.record.specification_known"}


async def test_the_cli_adds_a_usage_specification(seeded_api, bss):
    result = await bss("catalog", "admin", "add-usage-spec", "--name", "MMS", "--rated-as", "sms", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == "USPEC_1"
    again = await bss("catalog", "admin", "add-usage-spec", "--name", "MMS", "--rated-as", "sms")
    assert again.exit_code == 2 and "usage_specification.create.name_unique" in again.output
