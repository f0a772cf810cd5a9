"""`bss customer update|suspend|resume|update-individual` through the real API (#14: customer and contact updates)."""

from __future__ import annotations

import json

from tests.cli.test_customer_cli import create


async def run_json(bss, *args: str) -> dict:
    result = await bss(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def contacts(customer: dict) -> dict[str, tuple[bool, dict]]:
    return {m["mediumType"]: (m["preferred"], m["characteristic"]) for m in customer["contactMedium"]}


async def test_update_replaces_the_named_contacts_and_keeps_the_others(api, bss):
    created = await create(bss)
    cid = created["id"]
    changed = await run_json(bss, "customer", "update", cid, "--email", "ada.l@example.com")
    assert contacts(changed) == {"email": (True, {"emailAddress": "ada.l@example.com"}),
                                 "mobile": (False, {"phoneNumber": "+6591234567"})}
    changed = await run_json(bss, "customer", "update", cid, "--phone", "+65 9876 5432", "--address", "1 Fusionopolis Way",
                             "--post-code", "138632", "--city", "Singapore")
    assert contacts(changed)["mobile"] == (False, {"phoneNumber": "+6598765432"})
    assert contacts(changed)["postalAddress"] == (False, {"street1": "1 Fusionopolis Way", "postCode": "138632",
                                                          "city": "Singapore"})
    human = await bss("customer", "update", cid, "--city", "Singapore West", "--name", "Ada King")
    assert human.exit_code == 0, human.output
    assert "Ada King" in human.output and "ada.l@example.com" not in human.output  # the card masks the address
    summary = await run_json(bss, "customer", "show", cid)
    assert summary["customer"]["name"] == "Ada King"
    assert {c["mediumType"]: c["value"] for c in summary["contacts"]} == {
        "email": "ada.l@example.com", "mobile": "+6598765432",
        "postalAddress": "1 Fusionopolis Way, 138632, Singapore West"}
    assert summary["interactions"][0]["reason"] == "customer details updated"


async def test_update_refusals(api, bss):
    ada, bob = await create(bss), await create(bss, "bob@example.com")
    nothing = await bss("customer", "update", ada["id"])
    assert nothing.exit_code == 2 and "nothing to change" in nothing.output
    taken = await bss("customer", "update", bob["id"], "--email", "ADA@example.com", "--json")
    assert taken.exit_code == 2 and json.loads(taken.output)["code"] == "customer.update.email_unique"
    bad_phone = await bss("customer", "update", ada["id"], "--phone", "call me")
    assert bad_phone.exit_code == 2 and "customer.update.phone_valid" in bad_phone.output
    unknown = await bss("customer", "update", "CUST-999999", "--name", "Nobody", "--json")
    assert unknown.exit_code == 2 and json.loads(unknown.output)["code"] == "customer.not_found"


async def test_suspend_and_resume(api, bss):
    created = await create(bss)
    cid = created["id"]
    pending = await bss("customer", "suspend", cid, "--json")  # only an active customer can be suspended
    assert pending.exit_code == 2 and json.loads(pending.output)["code"] == "customer.transition.invalid"
    attested = await bss("customer", "attest-kyc", cid, "--document-type", "nric", "--document-number", "S1234567A")
    assert attested.exit_code == 0, attested.output
    suspended = await run_json(bss, "customer", "suspend", cid, "--reason", "payment dispute")
    assert (suspended["status"], suspended["statusReason"]) == ("suspended", "payment dispute")
    resumed = await bss("customer", "resume", cid, "--reason", "dispute settled")
    assert resumed.exit_code == 0 and "active" in resumed.output, resumed.output
    summary = await run_json(bss, "customer", "show", cid)
    assert summary["customer"]["status"] == "active"
    assert [i["reason"] for i in summary["interactions"]][:2] == ["customer resumed", "customer suspended"]


async def test_update_individual_changes_the_person_behind_the_customer(api, bss):
    created = await create(bss)
    cid = created["id"]
    person = await run_json(bss, "customer", "update-individual", cid, "--family", "King", "--birth-date",
                            "1815-12-10", "--title", "Countess")
    assert person["id"] == created["engagedParty"]["id"]
    assert (person["familyName"], person["birthDate"], person["title"]) == ("King", "1815-12-10T00:00:00Z", "Countess")
    human = await bss("customer", "update-individual", cid, "--middle", "Augusta")
    assert human.exit_code == 0 and "Ada Augusta King" in human.output, human.output
    summary = await run_json(bss, "customer", "show", cid)
    assert (summary["customer"]["familyName"], summary["customer"]["birthDate"]) == ("King", "1815-12-10")
    bad_date = await bss("customer", "update-individual", cid, "--birth-date", "10/12/1815")
    assert bad_date.exit_code == 2 and "--birth-date" in bad_date.output
    nothing = await bss("customer", "update-individual", cid)
    assert nothing.exit_code == 2 and "nothing to change" in nothing.output
