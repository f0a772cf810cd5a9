"""Commands the operations registry added to lines, orders and tickets (#14), through the real API and workers:
`subscription top-up` (TMF654 topupBalance), `order tree` and `ticket note`.
"""

from __future__ import annotations

import json

from tests.api.test_product_inventory import active_line
from tests.cli.test_care_cli import add_customer, run_json

TOPUP = "/tmf-api/prepayBalanceManagement/v4/topupBalance"


async def test_top_up_buys_the_vas_that_grants_the_amount(seeded_api, bss):
    _, sub = await active_line(seeded_api, "PLAN_M")
    human = await bss("subscription", "top-up", sub, "--amount", "1")
    assert human.exit_code == 0, human.output
    assert f"{sub}-data topped up by 1 GB" in human.output and "VAS_DATA_1GB" in human.output
    roaming = await run_json(bss, "subscription", "top-up", sub, "--amount", "1", "--allowance", "data_roaming")
    assert (roaming["bucket"]["id"], roaming["productOffering"]["id"]) == (f"{sub}-data_roaming", "VAS_ROAMING_1GB")
    assert (await seeded_api.get(f"{TOPUP}/{roaming['id']}")).json()["payment"] == roaming["payment"]
    day = await run_json(bss, "subscription", "top-up", sub, "--amount", "1", "--units", "day")
    assert day["productOffering"]["id"] == "VAS_UNLIMITED_DAY" and day["amount"] == {"amount": 1, "units": "day"}
    unsold = await bss("subscription", "top-up", sub, "--amount", "2", "--json")
    assert unsold.exit_code == 2 and json.loads(unsold.stdout)["code"] == "subscription.vas_purchase.offering_sellable"
    # Refused by the input model, before any call: a unit the API does not know, a line id that is not one.
    bad_unit = await bss("subscription", "top-up", sub, "--amount", "1", "--units", "TB")
    assert bad_unit.exit_code == 2 and "--units" in bad_unit.output and "invalid input" in bad_unit.output
    bad_line = await bss("subscription", "top-up", "CUST-000001", "--amount", "1")
    assert bad_line.exit_code == 2 and "--subscription-id" in bad_line.output


async def test_order_tree_shows_the_decomposition_and_its_json(seeded_api, bss):
    customer, _ = await active_line(seeded_api)
    (order,) = await run_json(bss, "order", "list", "--customer", customer)
    tree = await bss("order", "tree", order["id"])
    assert tree.exit_code == 0, tree.output
    for text in ("service order", "HLR_PROVISION", "ESIM_PROFILE_PREPARE", "completed"):
        assert text in tree.output, text
    assert await run_json(bss, "order", "tree", order["id"]) == (
        await seeded_api.get(f"/bss-api/v1/order/{order['id']}/tree")).json()
    assert (await bss("order", "show", order["id"])).output == tree.output  # the human `show` is the tree


async def test_ticket_note_is_added_to_the_ticket(seeded_api, seeded_db, bss):
    await add_customer(seeded_db)
    ticket = await run_json(bss, "ticket", "open", "--customer", "CUST-900001", "--type", "billing",
                            "--severity", "minor", "--description", "Charged twice")
    noted = await bss("ticket", "note", ticket["id"], "Refund requested from finance")
    assert noted.exit_code == 0 and "Refund requested from finance" in noted.output, noted.output
    again = await run_json(bss, "ticket", "note", ticket["id"], "Finance confirmed")
    assert [n["text"] for n in again["note"]] == ["Refund requested from finance", "Finance confirmed"]
    missing = await bss("ticket", "note", "TT-999999", "lost", "--json")
    assert missing.exit_code == 2 and json.loads(missing.stdout)["code"] == "ticket.not_found"
