"""Provisioning rule codes no other test asserted through the real stack (issue #17): a network element
that refuses every attempt of a task fails the order placed over HTTP, the order says
`provisioning.task.attempts_exhausted`, and the attempts before the last reached the order workflow as
retryable `provisioning.network_error` failures (the type a workflow sees, SPEC §5)."""

from __future__ import annotations

import json

from tests.support.factories import ready_customer
from tests.workflows.order_helpers import place_order, set_fault, wait_order
from workflows.order import order_workflow_id


def failure_types(history: dict) -> list[str]:
    """Every application failure type anywhere in a workflow history, in order."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            info = node.get("applicationFailureInfo")
            if isinstance(info, dict) and info.get("type"):
                found.append(info["type"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(history)
    return found


async def test_a_task_refused_on_every_attempt_fails_the_order_with_its_codes(seeded_api, seeded_db, temporal_env):
    await set_fault(seeded_api, "PCRF_POLICY_PUSH", "fail_always")
    order = await place_order(seeded_api, await ready_customer(seeded_api), offering_id="PLAN_S")
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "failed", done
    notes = [note["text"] for note in done.get("note", [])]
    assert any(text.startswith("provisioning.task.attempts_exhausted: PCRF") for text in notes), notes
    history = await temporal_env.client.get_workflow_handle(order_workflow_id(order["id"])).fetch_history()
    types = failure_types(json.loads(json.dumps(history.to_json_dict())))
    assert "provisioning.network_error" in types and "provisioning.task.attempts_exhausted" in types, types
