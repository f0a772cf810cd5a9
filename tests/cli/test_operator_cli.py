"""`bss operator add|list|disable` against the real API: the login is made, listed without its password,
works for the console's login call, and stops working once disabled."""

from __future__ import annotations

import json

from tests.conftest import client_for

PASSWORD = "correct horse battery"


async def test_add_list_and_disable_an_operator(seeded_api, api_url, bss):
    added = await bss("operator", "add", "dana.lee", "--name", "Dana Lee", "--email", "dana.lee@example.com",
                      "--role", "supervisor", "--password", PASSWORD, "--json")
    assert added.exit_code == 0, added.output
    row = json.loads(added.stdout)
    assert (row["username"], row["role"], row["disabledAt"]) == ("dana.lee", "supervisor", None)
    assert PASSWORD not in added.stdout

    listed = await bss("operator", "list")
    assert listed.exit_code == 0 and "dana.lee" in listed.stdout and "supervisor" in listed.stdout, listed.output
    assert "enabled" in listed.stdout and PASSWORD not in listed.stdout

    async with client_for(api_url, "portal-csr") as csr:
        login = await csr.post("/portal-api/v1/operator-login", json={"username": "dana.lee", "password": PASSWORD})
        assert login.status_code == 201, login.text
        assert login.json()["operator"]["role"] == "supervisor"

        again = await bss("operator", "add", "dana.lee", "--name", "Dana Lee", "--email", "d2@example.com",
                          "--role", "csr", "--password", PASSWORD)
        assert again.exit_code != 0 and "already exists" in again.output

        short = await bss("operator", "add", "sam.short", "--name", "Sam", "--email", "sam@example.com",
                          "--role", "csr", "--password", "short")
        assert short.exit_code == 2 and "--password" in short.output

        prompted = await bss("operator", "add", "eng.ravi", "--name", "Ravi K", "--email", "ravi@example.com",
                             "--role", "engineer", input=PASSWORD + "\n")
        assert prompted.exit_code == 0 and "Password" in prompted.output and PASSWORD not in prompted.output
        assert "AG-ENG-ENG-RAVI" in prompted.stdout  # a staff id cases and tickets can be assigned to

        disabled = await bss("operator", "disable", "dana.lee", "--yes")
        assert disabled.exit_code == 0 and "disabled" in disabled.stdout, disabled.output
        refused = await csr.post("/portal-api/v1/operator-login", json={"username": "dana.lee", "password": PASSWORD})
        assert refused.status_code == 422
        rows = {r["username"]: r for r in json.loads((await bss("operator", "list", "--json")).stdout)}
        assert rows["dana.lee"]["disabledAt"] and rows["eng.ravi"]["disabledAt"] is None


async def test_an_operator_finds_a_customer_and_reads_its_timeline_from_the_cli(seeded_api, bss):
    from tests.support.factories import ready_customer

    customer_id = await ready_customer(seeded_api)
    name = (await seeded_api.get(f"/crm-api/v1/customer/{customer_id}/summary")).json()["customer"]["name"]
    found = await bss("customer", "search", name.upper())
    assert found.exit_code == 0 and customer_id in found.stdout and "active" in found.stdout, found.output
    none = await bss("customer", "search", "nobody-by-that-name")
    assert none.exit_code == 0 and "no customer matches" in none.stdout
    short = await bss("customer", "search", "x")
    assert short.exit_code == 2 and "at least 2 characters" in short.output
    timeline = json.loads((await bss("customer", "timeline", customer_id, "--json")).stdout)
    assert [e["eventType"] for e in timeline[-2:]] == ["customer.created", "individual.created"]  # oldest last
    assert {e["channel"] for e in timeline} == {"cli"}
    card = await bss("customer", "timeline", customer_id, "--limit", "1")
    assert card.exit_code == 0 and len(card.stdout.strip().splitlines()) == 1, card.output
