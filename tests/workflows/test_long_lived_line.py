"""Long-lived lines stay small (issue #13, item 8): a line bought up a thousand times continues as new.

Continue-as-new used to be considered only after a paid scheduled renewal, so a line with many VAS
purchases (or signals) in one period grew its history without bound. Now every loop turn checks the
history length, and every update or signal that makes it long wakes the loop.
"""

from __future__ import annotations

import asyncio

from domain.subscription_flow import SubscriptionStart
from tests.workflows.order_helpers import rows
from tests.workflows.subscription_helpers import (
    GB,
    balances,
    charges,
    eventually,
    open_line,
    subscription_queue,  # noqa: F401 - the `sub_queue` fixture
)
from workflows.subscription import SubscriptionWorkflow, subscription_workflow_id

OPS = "/bss-api/v1/subscription"
# A thousand purchases at the default bound (2,000 events) take ~4 minutes here; the suite buys 100 at a
# bound of 250, the same path (several continue-as-new under a steady stream of updates) in ~25 s.
PURCHASES = 100
BOUND = 250
CLIENTS = 4  # concurrent buyers; the line serialises them under its lock
SLACK = 35 * CLIENTS  # ~27 events a purchase: those in flight when the run starts draining finish in it


async def test_a_thousand_top_ups_continue_as_new_with_exact_balances(seeded_api, seeded_db, temporal_env, sub_queue):
    sub = await open_line(seeded_api, "PLAN_S")
    workflow_id = subscription_workflow_id(sub)
    with temporal_env.with_time_skipping_disabled():
        await temporal_env.client.start_workflow(SubscriptionWorkflow.run, SubscriptionStart(subscription_id=sub, history_bound=BOUND),
                                                 id=workflow_id, task_queue=sub_queue)
    todo = iter(range(PURCHASES))

    async def buyer() -> None:
        for n in todo:
            response = await seeded_api.post(f"{OPS}/{sub}/vas", json={"offeringId": "VAS_DATA_1GB",
                                                                       "requestId": f"buy-{n}"})
            assert response.status_code == 201, response.text

    await asyncio.gather(*(buyer() for _ in range(CLIENTS)))
    runs = await eventually(lambda: _closed_runs(temporal_env, workflow_id))
    lengths = [r.history_length for r in runs]
    assert len(runs) >= 3, lengths  # ~27 events a purchase: 2,700 events, several runs
    # Each run stops within a few purchases of the bound: the ones already admitted finish in it.
    assert max(lengths) < BOUND + SLACK, lengths
    current = await temporal_env.client.get_workflow_handle(workflow_id).describe()
    assert current.raw_description.workflow_execution_info.history_length < BOUND + SLACK
    assert (await balances(seeded_db, sub))["data"] == (5 * GB + PURCHASES * GB, 0)
    paid = await charges(seeded_db, sub)
    assert len(paid) == PURCHASES and sum(amount for _, amount in paid) == PURCHASES * 300
    (granted,) = await rows(seeded_db, "SELECT count(*) AS n FROM subscription.vas_grant WHERE subscription_id = :s",
                            s=sub)
    assert granted["n"] == PURCHASES
    # A retry of a recent request after continue-as-new is answered as before (request ids are carried).
    last = await seeded_api.post(f"{OPS}/{sub}/vas", json={"offeringId": "VAS_DATA_1GB",
                                                           "requestId": f"buy-{PURCHASES - 1}"})
    assert last.status_code == 201 and len(await charges(seeded_db, sub)) == PURCHASES


async def _closed_runs(env, workflow_id: str) -> list:
    runs = [r async for r in env.client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    closed = [r for r in runs if r.status is not None and r.status.name == "CONTINUED_AS_NEW"]
    return closed if len(closed) >= 3 else []
