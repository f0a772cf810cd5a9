"""`subscription.update.continuing_as_new` through HTTP (issue #17): a line whose run reached its history
bound turns new updates away while it moves to a new run; the API retries for its grace period (35 s)
and then answers 422 with the code. Here the bound is the smallest allowed (100 events, ~4 purchases a
run) under four concurrent buyers, and the grace is zero, so the first refusal is answered at once."""

from __future__ import annotations

import asyncio

from apis import line_workflow
from domain.subscription_flow import SubscriptionStart
from tests.workflows.subscription_helpers import open_line, subscription_queue  # noqa: F401 - fixture
from workflows.subscription import SubscriptionWorkflow, subscription_workflow_id

OPS = "/bss-api/v1/subscription"


async def test_updates_racing_a_line_moving_to_a_new_run_are_refused_once_the_grace_is_over(
        seeded_api, seeded_db, temporal_env, sub_queue, monkeypatch):
    monkeypatch.setattr(line_workflow, "MOVING_RUN_GRACE_S", 0.0)  # no retry: the first refusal is answered
    sub = await open_line(seeded_api, "PLAN_S")
    with temporal_env.with_time_skipping_disabled():
        handle = await temporal_env.client.start_workflow(
            SubscriptionWorkflow.run, SubscriptionStart(subscription_id=sub, history_bound=100),
            id=subscription_workflow_id(sub), task_queue=sub_queue)
    answers: list[tuple[int, str | None]] = []
    todo = iter(range(60))

    async def buyer() -> None:
        for n in todo:
            response = await seeded_api.post(f"{OPS}/{sub}/vas", json={"offeringId": "VAS_DATA_1GB",
                                                                       "requestId": f"buy-{n}"})
            answers.append((response.status_code, response.json().get("code")))
            if response.status_code == 422:
                return

    try:
        await asyncio.gather(*(buyer() for _ in range(4)))
    finally:
        await handle.terminate("test over")
    refusals = {a for a in answers if a[0] != 201}
    assert refusals == {(422, "subscription.update.continuing_as_new")}, answers
