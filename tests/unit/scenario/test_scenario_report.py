"""Snapshots of the scenario report: a passing run, a failing step with expected vs actual, the summary."""

from __future__ import annotations

from cli.scenario.assertions import Failure
from cli.scenario.report import as_json, scenario_card, summary
from cli.scenario.runner import ScenarioResult, StepResult
from tests.support.snapshots import assert_snapshot


def _passing() -> ScenarioResult:
    return ScenarioResult("automatic-renewal-exactly-once", "scenarios/06_renewal_exactly_once.yaml", [
        StepResult("setup: reset operational data", "cli", "passed", 412, 1),
        StepResult("order PLAN_M and wait for activation", "cli", "passed", 1830, 1),
        StepResult("advance 30d", "advance", "passed", 960, 1),
        StepResult("the line is in period 2", "cli", "passed", 655, 3),
    ], elapsed_ms=3857)


def _failing() -> ScenarioResult:
    failure = Failure("product.status eq", "suspended", "active", "expected product.status eq 'suspended', got "
                                                                  "'active'")
    return ScenarioResult("signup-exhaust-block-topup", "scenarios/01_signup_exhaust_topup.yaml", [
        StepResult("use 5 GB of data (the whole bundle)", "cli", "passed", 240, 1),
        StepResult("the line is blocked for exhausted data", "cli", "failed", 10040, 21, failure,
                   output='{"product": {"id": "SUB-000001", "status": "active"}}'),
        StepResult("top up 1 GB of data with the card on file", "cli", "skipped"),
    ], elapsed_ms=10310)


def test_snapshot_of_a_passing_scenario():
    assert_snapshot("scenario_passed", scenario_card(_passing()))


def test_snapshot_of_a_failing_step_with_expected_and_actual():
    assert_snapshot("scenario_failed", scenario_card(_failing()))


def test_snapshot_of_the_summary_and_its_json():
    results = [_passing(), _failing()]
    assert_snapshot("scenario_summary", summary(results, 14200))
    data = as_json(results, 14200)
    assert (data["passed"], data["scenarios"], data["failed"]) == (False, 2, 1)
    assert data["results"][1]["steps"][1]["failure"]["actual"] == "active"
