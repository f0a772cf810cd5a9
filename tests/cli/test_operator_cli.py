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

        disabled = await bss("operator", "disable", "dana.lee", "--yes")
        assert disabled.exit_code == 0 and "disabled" in disabled.stdout, disabled.output
        refused = await csr.post("/portal-api/v1/operator-login", json={"username": "dana.lee", "password": PASSWORD})
        assert refused.status_code == 422
        assert json.loads((await bss("operator", "list", "--json")).stdout)[0]["disabledAt"]
