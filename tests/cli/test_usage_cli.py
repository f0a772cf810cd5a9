"""`bss usage …` against the real API: simulate rates and blocks, refusals show the rule code, history lists."""

from __future__ import annotations

import json

import pytest

from cli.render.usage import history_table, usage_card
from operations.usage import parse_quantity
from tests.api.test_usage import active_line
from tests.support.snapshots import render_text


@pytest.mark.parametrize("text, usage_type, expected", [
    ("1GB", "data", 1024), ("1.5gb", "data", 1536), ("500MB", "data", 500), ("500", "data", 500),
    ("90s", "voice", 90), ("5min", "voice", 300), ("1h", "voice", 3600), ("45", "voice", 45),
    ("3 sms", "sms", 3), ("3", "sms", 3),
])
def test_quantities_parse_into_base_units(text: str, usage_type: str, expected: int) -> None:
    assert parse_quantity(text, usage_type) == expected


@pytest.mark.parametrize("text, usage_type", [("5min", "data"), ("1GB", "voice"), ("0.5MB", "data"),
                                              ("lots", "data"), ("2 sms", "voice"), ("", "sms")])
def test_a_quantity_foreign_to_its_type_is_refused(text: str, usage_type: str) -> None:
    with pytest.raises(ValueError, match="is not a"):
        parse_quantity(text, usage_type)


async def test_simulate_rates_blocks_and_then_refuses_with_the_rule_code(seeded_api, seeded_db, bss):
    sub_id, msisdn = await active_line(seeded_api, seeded_db)  # PLAN_S: 5 GB
    result = await bss("usage", "simulate", "--msisdn", msisdn, "--type", "data", "--quantity", "4GB")
    assert result.exit_code == 0, result.output
    assert "Usage USG-" in result.output and sub_id in result.output
    assert "4 GB from data" in result.output and "1 GB" in result.output and "blocked" not in result.output
    result = await bss("usage", "simulate", "--msisdn", msisdn, "--quantity", "1GB", "--event-id", "cli-last",
                       "--json")
    assert result.exit_code == 0, result.output
    last = json.loads(result.output)
    assert last["ratedProductUsage"][0]["lineBlocked"] is True
    again = await bss("usage", "simulate", "--msisdn", msisdn, "--quantity", "1GB", "--event-id", "cli-last",
                      "--json")
    assert json.loads(again.output) == last  # a resent event answers the first result
    refused = await bss("usage", "simulate", "--msisdn", msisdn, "--type", "voice", "--quantity", "5min")
    assert refused.exit_code == 2 and "usage.record.subscription_not_active" in refused.output
    refused = await bss("usage", "simulate", "--msisdn", msisdn, "--type", "sms", "--quantity", "1", "--json")
    assert refused.exit_code == 2 and json.loads(refused.output)["code"] == "usage.record.subscription_not_active"
    assert "blocked: data exhausted" in render_text(usage_card(last))

    history = await bss("usage", "history", "--msisdn", msisdn)
    assert f"Usage of {msisdn}" in history.output and last["id"] in history.output
    assert "rejected" in history.output and "line not active" in history.output
    assert "⚠ blocked" in history.output
    listed = json.loads((await bss("usage", "history", "--subscription", sub_id, "--json")).output)
    assert [u["status"] for u in listed] == ["rejected", "rejected", "rated", "rated"]


async def test_simulate_and_history_refuse_bad_options(seeded_api, bss):
    bad = await bss("usage", "simulate", "--msisdn", "90000001", "--quantity", "5min")
    assert bad.exit_code == 2 and "not a data quantity" in bad.output
    bad = await bss("usage", "simulate", "--msisdn", "90000001", "--type", "video", "--quantity", "1")
    assert bad.exit_code == 2
    unknown = await bss("usage", "simulate", "--msisdn", "90000999", "--quantity", "1MB")
    assert unknown.exit_code == 2 and "usage.record.unknown_msisdn" in unknown.output
    assert (await bss("usage", "history")).exit_code == 2
    assert (await bss("usage", "history", "--msisdn", "1", "--subscription", "SUB-1")).exit_code == 2
    empty = await bss("usage", "history", "--msisdn", "90000998")
    assert empty.exit_code == 0 and "no usage recorded for 90000998" in empty.output
    assert "no usage recorded" in render_text(history_table([], "x"))
