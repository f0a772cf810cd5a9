"""`bss usage show` against the real API: one usage record, rated or rejected."""

from __future__ import annotations

import json

from tests.api.test_usage import active_line


async def test_show_prints_one_rated_record_and_refuses_unknown_ones(seeded_api, seeded_db, bss):
    sub_id, msisdn = await active_line(seeded_api, seeded_db)
    rated = json.loads((await bss("usage", "simulate", "--msisdn", msisdn, "--quantity", "300MB", "--json")).output)
    result = await bss("usage", "show", rated["id"])
    assert result.exit_code == 0, result.output
    assert f"Usage {rated['id']}" in result.output and sub_id in result.output and "300 MB" in result.output
    assert json.loads((await bss("usage", "show", rated["id"], "--json")).output) == rated
    missing = await bss("usage", "show", "USG-999999", "--json")
    assert missing.exit_code == 2 and json.loads(missing.output)["code"] == "usage.not_found"
    bad = await bss("usage", "show", "SUB-1")
    assert bad.exit_code == 2 and "invalid input" in bad.output
