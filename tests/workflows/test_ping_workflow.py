"""The ping flow proves the spine: one trace from the HTTP request through the workflow to SQL."""

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from core.temporal import client_interceptors
from tests.workflows.history_manifest import record
from workers.factory import sandbox_runner
from workflows.diagnostics import PingWorkflow


async def test_one_trace_crosses_api_workflow_activity_and_sql(api, spans):
    spans.clear()
    response = await api.post("/bss-api/v1/diagnostics/ping", json={"note": "trace me"})
    assert response.status_code == 201, response.text
    trace_id = response.json()["traceId"]
    assert trace_id
    names = {s.name for s in spans.get_finished_spans() if format(s.context.trace_id, "032x") == trace_id}
    for expected in ("POST /bss-api/v1/diagnostics/ping", "StartWorkflow:PingWorkflow",
                     "RunWorkflow:PingWorkflow", "StartActivity:record_ping", "RunActivity:record_ping"):
        assert expected in names, f"{expected} missing from trace: {sorted(names)}"
    assert "INSERT" in names or any(n.startswith("INSERT") for n in names), sorted(names)


async def test_ping_history_replays_deterministically(api, temporal_env):
    response = await api.post("/bss-api/v1/diagnostics/ping", json={})
    handle = temporal_env.client.get_workflow_handle(response.json()["workflowId"])
    history: WorkflowHistory = await handle.fetch_history()
    replayer = Replayer(workflows=[PingWorkflow], data_converter=pydantic_data_converter,
                        interceptors=client_interceptors(), workflow_runner=sandbox_runner())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None
    record(history, "ping")  # with BSS_RECORD_HISTORIES=1: the fixture MANIFEST.json lists for PingWorkflow
