"""Determinism guard: every recorded history replays on today's workflow code.

Two sources: a fresh order history recorded in this run (catches nondeterminism inside the code),
and every history listed in `histories/MANIFEST.json`, whatever its workflow (each stands for an
execution that may still be running in production).

The rule, from the first release on (docs/WORKFLOW_VERSIONING.md):

* any change to a workflow's command sequence (an activity, timer, child, marker, search-attribute
  upsert added, removed or reordered, or its inputs changed) is guarded by a NEW `workflow.patched`
  id: a patch id is never reused, whatever the change;
* a history of the new shape is recorded (`BSS_RECORD_HISTORIES=1`; a taken name gets a `-n`
  suffix, nothing is overwritten) and added to the manifest (`.venv/bin/python -m
  tests.workflows.history_manifest`); every recorded history stays, and all of them replay here;
* a patch is deprecated (`workflow.deprecate_patch`) and its old branch removed only once no
  execution that took it can still be running, and its histories go with that branch.

`test_history_manifest.py` fails when a workflow module changed since its histories were recorded.
"""

from __future__ import annotations

import importlib
import json

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from core.temporal import client_interceptors
from tests.support.factories import ready_customer
from tests.workflows import history_manifest
from tests.workflows.order_helpers import place_order, wait_order
from workers.factory import sandbox_runner
from workflows.order import OrderWorkflow, order_workflow_id

# The order as it completes today: reserve, charge, provisioning, activate stage, line workflow.
RECORDED = "order_completed"


def _workflow_classes() -> list[type]:
    """Every workflow class of the modules the manifest lists."""
    classes = []
    for module in history_manifest.workflow_modules():
        loaded = importlib.import_module(module.removesuffix(".py").replace("/", "."))
        classes += [v for v in vars(loaded).values()
                    if isinstance(v, type) and hasattr(v, "__temporal_workflow_definition")
                    and v.__module__ == loaded.__name__]
    return classes


def _replayer(workflows: list[type] | None = None) -> Replayer:
    return Replayer(workflows=workflows or _workflow_classes(), data_converter=pydantic_data_converter,
                    interceptors=client_interceptors(), workflow_runner=sandbox_runner())


async def test_a_fresh_order_history_replays(seeded_api, temporal_env):
    customer = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer)
    assert (await wait_order(seeded_api, order["id"]))["state"] == "completed"
    handle = temporal_env.client.get_workflow_handle(order_workflow_id(order["id"]))
    await handle.result()  # the order is `completed` a workflow task before its workflow ends
    history = await handle.fetch_history()
    result = await _replayer([OrderWorkflow]).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
    history_manifest.record(history, RECORDED)


async def test_committed_histories_replay():
    listed = [f for entry in history_manifest.load().values() for f in entry["fixtures"]]
    assert listed, "no committed histories: record them with BSS_RECORD_HISTORIES=1"
    replayer = _replayer()
    for name in listed:
        text = (history_manifest.HISTORIES / name).read_text()
        history = WorkflowHistory.from_json(json.loads(text).get("workflowId") or name, text)
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None, f"{name}: {result.replay_failure}"
