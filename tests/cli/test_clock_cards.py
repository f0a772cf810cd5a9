"""Clock cards from the API's JSON: real time, scenario time, and an advance some workflows did not follow."""

from __future__ import annotations

from cli.render.clock import advance_card, clock_card
from tests.support.snapshots import assert_snapshot

SCENARIO_NOW = {"now": "2027-01-03T09:30:00.123456Z", "wallClock": "2026-11-27T09:30:00.123456Z",
                "offset": "37d", "offsetSeconds": 37 * 86400, "timeSkipping": True}


def test_clock_card_in_real_time():
    assert_snapshot("clock_real_time", clock_card({
        "now": "2026-11-27T09:30:00.123456Z", "wallClock": "2026-11-27T09:30:00.123456Z", "offset": "0s",
        "offsetSeconds": 0, "timeSkipping": False}))


def test_clock_card_in_scenario_time():
    assert_snapshot("clock_scenario_time", clock_card(SCENARIO_NOW))


def test_advance_card_names_workflows_that_did_not_follow():
    assert_snapshot("clock_advanced_partly", advance_card({
        **SCENARIO_NOW, "previousNow": "2026-12-04T09:29:59.900000Z", "advancedBy": "30d",
        "advancedSeconds": 30 * 86400, "elapsedMs": 60412,
        "workflows": {"open": 4, "moved": 2, "ended": 1, "timedOut": ["order-ORD-000042"],
                      "failed": []}}))


def test_advance_card_when_every_workflow_followed():
    assert_snapshot("clock_advanced", advance_card({
        **SCENARIO_NOW, "previousNow": "2026-12-04T09:29:59.900000Z", "advancedBy": "30d",
        "advancedSeconds": 30 * 86400, "elapsedMs": 212,
        "workflows": {"open": 3, "moved": 3, "ended": 0, "timedOut": [], "failed": []}}))
