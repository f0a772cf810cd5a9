"""`bss ping`, `bss workflow …` and `bss logs --json` against the real API (and through it the real Temporal)."""

from __future__ import annotations

import json

from temporalio.client import Client

from apis.app import create_app
from tests.support.http import serve
from tests.support.piped import assert_plain, run_bss
from tests.support.polling import until


async def run_json(bss, *args: str):
    result = await bss(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_a_ping_shows_up_in_workflow_list_show_and_history(api, bss):
    card = await bss("ping", "--note", "from the cli test")
    assert card.exit_code == 0 and "pong PING-" in card.stdout and "audit event" in card.stdout, card.output
    pinged = await run_json(bss, "ping")
    workflow_id = pinged["workflowId"]
    assert workflow_id.startswith("ping-PING-") and pinged["eventId"] > 0

    async def listed() -> list[dict] | None:
        rows = await run_json(bss, "workflow", "list", "--type", "PingWorkflow", "--status", "completed")
        return rows if any(r["workflowId"] == workflow_id for r in rows) else None

    rows = await until(listed, f"{workflow_id} listed")
    assert all(r["type"] == "PingWorkflow" and r["webUi"].startswith("http") for r in rows)
    table = await bss("workflow", "list", "--type", "PingWorkflow", "--limit", "1")
    assert table.exit_code == 0 and "1 workflow" in table.stdout and "completed" in table.stdout, table.output

    shown = await bss("workflow", "show", workflow_id)
    assert shown.exit_code == 0 and f"workflow {workflow_id}" in shown.stdout and "PingWorkflow" in shown.stdout
    assert "Web UI" in shown.stdout
    described = await run_json(bss, "workflow", "show", workflow_id)
    assert (described["status"], described["pendingActivities"]) == ("COMPLETED", [])

    history = await bss("workflow", "history", workflow_id)
    assert history.exit_code == 0 and f"history of {workflow_id}" in history.stdout
    assert "workflow_execution_completed" in history.stdout and "Web UI:" in history.stdout
    events = (await run_json(bss, "workflow", "history", workflow_id))["events"]
    assert events[0]["detail"] == "PingWorkflow" and events[-1]["type"] == "workflow_execution_completed"

    stuck = await bss("workflow", "stuck")
    assert stuck.exit_code == 0 and "orders waiting for an operator" in stuck.stdout, stuck.output
    assert isinstance(await run_json(bss, "workflow", "stuck"), list)


async def test_workflow_refusals_are_readable(api, bss):
    unknown = await bss("workflow", "show", "order-ORD-404404")
    assert unknown.exit_code == 2 and "workflow.not_found" in unknown.output
    missing = await bss("workflow", "history", "order-ORD-404404", "--json")
    assert missing.exit_code == 2 and json.loads(missing.stdout)["code"] == "workflow.not_found"
    malformed = await bss("workflow", "show", "order ORD 1")
    assert malformed.exit_code == 2 and "invalid input" in malformed.output  # refused before any call
    status = await bss("workflow", "list", "--status", "sleeping")
    assert status.exit_code == 2 and "--status" in status.output
    not_a_trace = await bss("trace", "get", "not-hex")
    assert not_a_trace.exit_code == 2 and "--trace-id" in not_a_trace.output
    no_order = await bss("trace", "for-order", "ORD-404404", "--json")
    assert no_order.exit_code == 2 and json.loads(no_order.stdout)["code"] == "order.not_found"


async def test_workflow_commands_with_temporal_out_of_reach_refuse_readably(api):
    # The API answers 503 temporal.unavailable; the CLI (which no longer loads Temporal's core at all)
    # prints a panel, or the TMF error with --json, and never a traceback.
    unreachable = await Client.connect("127.0.0.1:9", namespace="bss", lazy=True)
    async with serve(create_app(temporal_client=unreachable)) as url:
        shown = await run_bss("workflow", "show", "order-ORD-000001", BSS_API_URL=url)
        err = shown.stderr.decode()
        assert shown.returncode == 1 and "temporal.unavailable" in err and "Traceback" not in err, err
        for _ in range(2):
            listed = await run_bss("workflow", "list", "--json", BSS_API_URL=url)
            assert listed.returncode == 1, listed.stderr.decode()
            assert json.loads(listed.stdout)["code"] == "temporal.unavailable" and listed.stderr == b""


async def test_logs_as_json_lines(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "api.log").write_text("started\nGET /health 200\n")
    (tmp_path / "logs" / "worker.log").write_text('polling "orders"\n')
    result = await run_bss("logs", "--json", "-n", "1", BSS_HOME=str(tmp_path))
    out = assert_plain(result)
    assert result.returncode == 0, result.stderr.decode()
    lines = [json.loads(line) for line in out.splitlines()]
    assert {"component": "api", "line": "GET /health 200"} in lines
    assert {"component": "worker", "line": 'polling "orders"'} in lines
    only_api = await run_bss("logs", "api", "--json", BSS_HOME=str(tmp_path))
    assert [json.loads(line)["line"] for line in only_api.stdout.decode().splitlines()] == ["started",
                                                                                           "GET /health 200"]
