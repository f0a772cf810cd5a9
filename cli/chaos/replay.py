"""Every workflow a chaos run touched replays on the current workflow code (Temporal's Replayer).

The run's orders and lines name their workflows; Temporal's visibility adds whatever else started
while the run went on (event dispatchers continuing as new, pings). A replay failure means a
history the stack really produced no longer matches the code: the nondeterminism a restart after
a deploy would hit.
"""

from __future__ import annotations

import datetime as dt

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from core.temporal import client_interceptors
from workers.factory import sandbox_runner
from workers.registry import REGISTRY
from workflows.order import order_workflow_id
from workflows.subscription import subscription_workflow_id


def replayer() -> Replayer:
    """A replayer of every workflow the workers host, configured as they are."""
    workflows = list(dict.fromkeys(w for spec in REGISTRY.values() for w in spec.workflows))
    return Replayer(workflows=workflows, data_converter=pydantic_data_converter,
                    interceptors=client_interceptors(), workflow_runner=sandbox_runner())


async def touched(client: Client, since: dt.datetime, order_ids: list[str], subscription_ids: list[str]) -> list[str]:
    """Workflow ids of the run: its orders, its lines, and every workflow started since it began."""
    ids = [*map(order_workflow_id, order_ids), *map(subscription_workflow_id, subscription_ids)]
    stamp = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    async for execution in client.list_workflows(f"StartTime >= '{stamp}'"):
        ids.append(execution.id)
    return list(dict.fromkeys(ids))


async def replay(client: Client, workflow_ids: list[str]) -> tuple[int, list[str]]:
    """Replay the latest run of each workflow; return (histories replayed, failures)."""
    engine = replayer()
    failures = []
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        result = await engine.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures.append(f"{workflow_id}: {result.replay_failure}")
    return len(workflow_ids), failures
