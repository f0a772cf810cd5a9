"""`bss bill document` against the real API: the text bill the API renders (text/plain), as is."""

from __future__ import annotations

import json

from tests.api.test_bill import billed_line


async def test_document_prints_the_text_bill(seeded_api, seeded_db, bss):
    customer, sub, (_, vas) = await billed_line(seeded_api, seeded_db)
    text = (await seeded_api.get(f"/billing-api/v1/bill/{vas}/document")).text
    result = await bss("bill", "document", vas)
    assert result.exit_code == 0, result.output
    assert result.output == text  # line for line what the API rendered
    for expected in (f"BILL {vas}", customer, sub, "Data Top-Up 5GB", "TOTAL (tax incl.)", "SGD 15.00", "paid by PAY-"):
        assert expected in result.output, expected
    assert json.loads((await bss("bill", "document", vas, "--json")).output) == text


async def test_document_of_an_unknown_bill_is_refused(seeded_api, bss):
    missing = await bss("bill", "document", "BILL-999999", "--json")
    assert missing.exit_code == 2 and json.loads(missing.output)["code"] == "bill.not_found"
    assert "bill.not_found" in (await bss("bill", "document", "BILL-999999")).output
    bad = await bss("bill", "document", "PAY-000001")
    assert bad.exit_code == 2 and "invalid input" in bad.output
