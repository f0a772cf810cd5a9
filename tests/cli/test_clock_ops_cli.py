"""`bss clock now | advance` through the real API (a stack without time skipping refuses the advance)."""

from __future__ import annotations

import json


async def test_clock_now_and_an_advance_refused_without_time_skipping(api, bss):
    now = await bss("clock", "now", "--json")
    assert now.exit_code == 0, now.output
    assert json.loads(now.stdout)["timeSkipping"] is False
    card = await bss("clock", "now")
    assert card.exit_code == 0 and "real time" in card.stdout.lower()
    refused = await bss("clock", "advance", "1d", "--json")
    assert refused.exit_code == 2 and json.loads(refused.stdout)["code"] == "clock.advance.requires_time_skipping"
    bad = await bss("clock", "advance", "3x")
    assert bad.exit_code == 2 and "not a duration" in bad.output
