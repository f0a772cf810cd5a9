"""`bss organization create|show|list|update` through the real API (#17: TMF632 organizations)."""

from __future__ import annotations

import json


async def run_json(bss, *args: str) -> dict | list:
    result = await bss(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


async def test_organization_commands_round_trip(api, bss):
    created = await run_json(bss, "organization", "create", "Kopi Corner", "--legal-name", "Kopi Corner Pte. Ltd.",
                             "--registration", "201912345K", "--type", "company", "--email", "owner@kopi.example")
    oid = created["id"]
    assert oid.startswith("ORG-") and created["tradingName"] == "Kopi Corner" and created["isLegalEntity"] is True
    assert created["organizationIdentification"] == [{"identificationId": "201912345K",
                                                      "identificationType": "businessRegistration"}]
    shown = await run_json(bss, "organization", "show", oid)
    assert shown["name"] == "Kopi Corner Pte. Ltd." and shown["organizationType"] == "company"
    updated = await run_json(bss, "organization", "update", oid, "--status", "validated", "--trading-name", "Kopi Co")
    assert (updated["status"], updated["tradingName"]) == ("validated", "Kopi Co")
    await run_json(bss, "organization", "create", "Mee Pok Man")
    listed = await run_json(bss, "organization", "list", "--status", "validated")
    assert [o["id"] for o in listed] == [oid]
    human = await bss("organization", "list")
    assert human.exit_code == 0 and "Mee Pok Man" in human.output
    account = await run_json(bss, "organization", "add-customer", oid, "--email", "accounts@kopi.example")
    assert account["id"].startswith("CUST-") and account["name"] == "Kopi Co"
    assert account["engagedParty"]["@referredType"] == "Organization" and account["engagedParty"]["id"] == oid


async def test_organization_refusals(api, bss):
    await run_json(bss, "organization", "create", "Kopi Corner", "--registration", "201912345K")
    taken = await bss("organization", "create", "Kopi Copy", "--registration", "201912345k", "--json")
    assert taken.exit_code == 2 and json.loads(taken.output)["code"] == "organization.registration_unique"
    nothing = await bss("organization", "update", "ORG-000001")
    assert nothing.exit_code == 2 and "nothing to change" in nothing.output
    unknown = await bss("organization", "show", "ORG-999999", "--json")
    assert unknown.exit_code != 0 and json.loads(unknown.output)["code"] == "organization.not_found"
    bad_id = await bss("organization", "show", "CUST-000001")
    assert bad_id.exit_code == 2
