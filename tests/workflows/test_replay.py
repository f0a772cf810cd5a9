"""Determinism guard: order histories replay on today's workflow code.

Two sources: a fresh history recorded in this run (catches nondeterminism inside the code), and
the committed histories in `histories/` (catch a change that would break orders already running
in production). When a change is deliberately incompatible and guarded by `workflow.patched`,
record today's shape with `BSS_RECORD_HISTORIES=1` (it writes `RECORDED`; rename the file when
the shape changes again) and keep the older files: each is an order still running somewhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from core.temporal import client_interceptors
from tests.support.factories import ready_customer
from tests.workflows.order_helpers import place_order, wait_order
from workers.factory import sandbox_runner
from workflows.diagnostics import PingWorkflow
from workflows.order import OrderWorkflow, order_workflow_id

HISTORIES = Path(__file__).parent / "histories"
# The shape of orders since the `order-completes-at-activation` patch (slowest task first, the order
# closed by the activate stage, no `order_end`); `order_completed_staged.json` is the shape before it.
RECORDED = "order_completed_at_activation.json"


def _replayer() -> Replayer:
    return Replayer(workflows=[OrderWorkflow, PingWorkflow], data_converter=pydantic_data_converter,
                    interceptors=client_interceptors(), workflow_runner=sandbox_runner())


async def test_a_fresh_order_history_replays(seeded_api, temporal_env):
    customer = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer)
    assert (await wait_order(seeded_api, order["id"]))["state"] == "completed"
    handle = temporal_env.client.get_workflow_handle(order_workflow_id(order["id"]))
    await handle.result()  # the order is `completed` a workflow task before its workflow ends
    history = await handle.fetch_history()
    result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
    if os.environ.get("BSS_RECORD_HISTORIES") == "1":
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / RECORDED).write_text(history.to_json())


async def test_committed_histories_replay():
    files = sorted(HISTORIES.glob("*.json"))
    assert files, "no committed histories: record them with BSS_RECORD_HISTORIES=1"
    for path in files:
        workflow_id = json.loads(path.read_text()).get("workflowId") or path.stem
        history = WorkflowHistory.from_json(workflow_id, path.read_text())
        result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
