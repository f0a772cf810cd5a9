"""`bss scenario` against the real API, and `bss db reset --operational` against a real database and Temporal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.support.factories import ready_customer
from tests.workflows.order_helpers import line_workflow, place_order, set_fault, wait_order

SMALL = """
name: small
tags: [smoke]
setup: {reset: false}
variables: {offering: PLAN_M}
steps:
  - name: the catalog lists the plan
    cli: catalog show {{offering}}
    assert:
      - {path: lifecycleStatus, eq: Active}
      - {path: "productOfferingPrice", not_null: true}
    capture: {name: name}
  - name: the same offering through the API
    api: GET /tmf-api/productCatalogManagement/v4/productOffering/{{offering}}
    status: 200
    assert:
      - {path: name, eq: "{{name}}"}
  - name: a refusal is a result too
    api: {method: GET, path: /tmf-api/productCatalogManagement/v4/productOffering/NOPE}
    status: 404
  - name: health, over plain HTTP, polled
    http: GET {{api_url}}/health
    poll: {interval: 100ms, timeout: 5s}
    assert:
      - {path: status, eq: ok}
  - name: a refused command exits 2 with the TMF error
    cli: customer show CUST-999999
    exit_code: 2
    assert:
      - {path: code, eq: customer.not_found}
"""

FAILING = """
name: failing
setup: {reset: false}
steps:
  - cli: catalog show PLAN_M
    assert:
      - {path: name, eq: Gigantic}
  - cli: catalog list
"""


def _scenario(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(body)
    return path


async def test_a_small_scenario_passes_with_a_report(seeded_api, api_url, bss, tmp_path):
    path = _scenario(tmp_path, "small", SMALL)
    result = await bss("scenario", "run", str(path))
    assert result.exit_code == 0, result.output
    for expected in ("small · passed", "the catalog lists the plan", "health, over plain HTTP, polled", "✔"):
        assert expected in result.output, expected
    as_json = json.loads((await bss("scenario", "run", str(path), "--json")).stdout)
    assert as_json["passed"] is True and as_json["failed"] == 0
    assert [s["status"] for s in as_json["results"][0]["steps"]] == ["passed"] * 5


async def test_a_failing_step_shows_expected_and_actual_and_exits_1(seeded_api, api_url, bss, tmp_path):
    path = _scenario(tmp_path, "failing", FAILING)
    result = await bss("scenario", "run", str(path))
    assert result.exit_code == 1
    for expected in ("failing · FAILED", "name eq", '"Gigantic"', '"Standard"', "expected name eq 'Gigantic'"):
        assert expected in result.output, expected
    data = json.loads((await bss("scenario", "run", str(path), "--json")).stdout)
    steps = data["results"][0]["steps"]
    assert [s["status"] for s in steps] == ["failed", "skipped"]
    assert steps[0]["failure"] == {"check": "name eq", "expected": "Gigantic", "actual": "Standard",
                                   "message": "expected name eq 'Gigantic', got 'Standard'"}


async def test_run_all_filters_by_tag_and_validate_lists_problems(seeded_api, api_url, bss, tmp_path):
    _scenario(tmp_path, "small", SMALL)
    _scenario(tmp_path, "failing", FAILING)
    result = await bss("scenario", "run-all", str(tmp_path), "--tag", "smoke", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and [r["scenario"] for r in data["results"]] == ["small"]
    everything = await bss("scenario", "run-all", str(tmp_path))
    assert everything.exit_code == 1 and "1 failed, 1 passed" in everything.output
    (tmp_path / "broken.yaml").write_text("name: broken\nsteps:\n  - name: no action\n")
    invalid = await bss("scenario", "validate", str(tmp_path))
    assert invalid.exit_code == 1 and "broken.yaml" in invalid.output
    assert "step 1 (no action): a step takes exactly one of" in invalid.output
    refused = await bss("scenario", "run-all", str(tmp_path))
    assert refused.exit_code == 2


async def test_time_control_without_the_clock_command_is_a_clear_error(seeded_api, api_url, bss, tmp_path,
                                                                       monkeypatch):
    from cli.main import app
    from cli.scenario import steps

    monkeypatch.setattr(app, "registered_groups", [g for g in app.registered_groups if g.name != "clock"])
    steps._command.cache_clear()
    try:
        path = _scenario(tmp_path, "time", "name: time\nsetup: {reset: false}\nsteps:\n  - advance: 30d\n")
        data = json.loads((await bss("scenario", "run", str(path), "--json")).stdout)
    finally:
        steps._command.cache_clear()
    (step,) = data["results"][0]["steps"]
    assert step["status"] == "error" and "needs `bss clock advance`" in step["error"]


async def test_reset_terminates_workflows_and_restores_reference_data(seeded_api, seeded_db, temporal_env):
    from activities.reset import ResetRefused, reset_operational_data
    from cli.commands.db_reset import terminate_running_workflows

    await set_fault(seeded_api, "HLR_PROVISION", "fail_first_attempt")
    customer = await ready_customer(seeded_api)
    order = await wait_order(seeded_api, (await place_order(seeded_api, customer))["id"])
    assert order["state"] == "completed"
    line = order["productOrderItem"][0]["product"]["id"]
    async with seeded_db.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM provisioning.fault_rule WHERE enabled"))).scalar_one()
        reference = {t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one()
                     for t in ("catalog.product_offering", "inventory.msisdn", "inventory.esim_profile")}

    await line_workflow(temporal_env.client, line)  # started just after the order is completed
    terminated = await terminate_running_workflows(temporal_env.client)
    assert terminated >= 1
    line_flow = await temporal_env.client.get_workflow_handle(f"subscription-{line}").describe()
    assert line_flow.status.name == "TERMINATED"
    report = await reset_operational_data("dev")
    assert report.tables_emptied > 30 and report.reference_rows > sum(reference.values())

    async with seeded_db.connect() as conn:
        async def one(sql: str) -> object:
            return (await conn.execute(text(sql))).scalar_one()

        assert await one("SELECT count(*) FROM crm.customer") == 0
        assert await one("SELECT count(*) FROM subscription.subscription") == 0
        assert await one("SELECT count(*) FROM payment.payment") == 0
        assert await one("SELECT count(*) FROM inventory.msisdn WHERE state <> 'available'") == 0
        assert await one("SELECT count(*) FROM provisioning.fault_rule WHERE enabled") == 0
        for table, count in reference.items():
            assert await one(f"SELECT count(*) FROM {table}") == count
        assert await one("SELECT count(*) FROM audit.domain_event WHERE event_type = 'operational_data.reset'") == 1
    assert await terminate_running_workflows(temporal_env.client) == 0
    with pytest.raises(ResetRefused):
        await reset_operational_data("production")
