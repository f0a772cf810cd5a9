"""`bss balance adjust|adjustments` and `bss bill on-demand` against the real API."""

from __future__ import annotations

import json

from tests.api.test_bill_on_demand import charge
from tests.api.test_product_inventory import active_line


async def test_a_goodwill_credit_and_a_bill_on_demand_from_the_command_line(seeded_api, bss):
    customer, sub = await active_line(seeded_api)
    credited = await bss("balance", "adjust", sub, "--amount", "2", "--units", "GB", "--reason", "goodwill: outage")
    assert credited.exit_code == 0, credited.output
    assert f"{sub}-data credited 2048 MB" in credited.output and "goodwill: outage" in credited.output
    debited = await bss("balance", "adjust", sub, "--amount", "-100", "--allowance", "data_roaming",
                        "--reason", "correction", "--json")
    assert debited.exit_code == 0, debited.output
    assert json.loads(debited.output)["amount"] == {"amount": -100, "units": "MB"}
    listed = await bss("balance", "adjustments", sub, "--json")
    assert [(a["bucket"]["id"], a["amount"]["amount"]) for a in json.loads(listed.output)] == [
        (f"{sub}-data_roaming", -100), (f"{sub}-data", 2048)]
    refused = await bss("balance", "adjust", sub, "--amount", "0", "--reason", "nothing", "--json")
    assert refused.exit_code != 0 and json.loads(refused.output)["code"] == "balance.adjust.amount_non_zero"
    payment = await charge(seeded_api, customer, 5)
    billed = await bss("bill", "on-demand", customer, "--subscription", sub, "--payment", payment,
                       "--description", "SIM replacement")
    assert billed.exit_code == 0, billed.output
    assert "issued" in billed.output and "done" in billed.output
    again = await bss("bill", "on-demand", customer, "--subscription", sub, "--payment", payment, "--json")
    assert again.exit_code != 0 and json.loads(again.output)["code"] == "bill.payment_already_billed"
