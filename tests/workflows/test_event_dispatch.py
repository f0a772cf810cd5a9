"""EventDispatchWorkflow under a worker stopped mid-delivery: every event arrives, a duplicate only with its id."""

from __future__ import annotations

import asyncio

from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from core.settings import get_settings
from core.temporal import client_interceptors
from tests.support import mailbox
from tests.support.event_listener import listening, subscribe, verify, waking
from tests.support.factories import order_body, ready_customer
from tests.support.polling import until
from tests.workflows.history_manifest import record
from workers.factory import sandbox_runner
from workflows import queues
from workflows.event_dispatch import DispatchStart, EventDispatchWorkflow, dispatch_workflow_id

CUSTOMER = "/tmf-api/customerManagement/v4"


async def test_worker_stopped_mid_delivery_loses_nothing(seeded_api, seeded_db, worker, temporal_env):
    async with listening() as listener, waking(temporal_env.client, seeded_db):
        listener.hold = asyncio.Event()  # the first POST hangs until the worker is gone
        hub = await subscribe(seeded_api, CUSTOMER, listener.url, "eventType=CustomerCreateEvent")
        customers = [await ready_customer(seeded_api, card=None, verified=False) for _ in range(3)]
        await asyncio.wait_for(listener.arrived.wait(), 10)

        await worker.pause(queues.EVENTS)  # the batch in flight is cancelled before it records anything
        listener.hold.set()  # the listener did get the first event: only the worker never heard back
        listener.hold = None
        worker.start(queues.EVENTS)

        async def all_three() -> bool:
            return {e["event"]["customer"]["id"] for e in listener.events()} == set(customers)

        await until(all_three, "every event delivered after the worker came back", timeout=20)
        seen: dict[str, bytes] = {}
        for headers, body in listener.received:
            verify(hub["secret"], headers, body)
            delivery = headers["x-event-delivery-id"]
            assert seen.setdefault(delivery, body) == body, "a redelivery carries the same id and the same event"
        assert [e["event"]["customer"]["id"] for e in listener.events()][-3:] == customers, "in order"
        assert len(seen) == 3 and len(listener.received) == 4, "exactly the interrupted event came twice"

        history = await temporal_env.client.get_workflow_handle(dispatch_workflow_id(hub["id"])).fetch_history()
    replayer = Replayer(workflows=[EventDispatchWorkflow], data_converter=pydantic_data_converter,
                        interceptors=client_interceptors(), workflow_runner=sandbox_runner())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None
    record(history, "event_dispatch_worker_restart")  # with BSS_RECORD_HISTORIES=1 (docs/WORKFLOW_VERSIONING.md)


async def test_the_notifier_reads_the_same_log(seeded_api, seeded_db, worker, temporal_env):
    """The built-in `notifier` subscription hands the audit rows to activities.notifications: an order mails."""
    async with waking(temporal_env.client, seeded_db, kinds=("notifier",)):
        customer = await ready_customer(seeded_api)
        order = await seeded_api.post("/tmf-api/productOrderingManagement/v4/productOrder", json=order_body(customer))
        assert order.status_code == 201, order.text
        email = (await seeded_api.get(f"{CUSTOMER}/customer/{customer}")).json()["contactMedium"][0][
            "characteristic"]["emailAddress"]

        async def mailed() -> list:
            return mailbox.mails(email, "notification.order_completed")

        (mail,) = await until(mailed, "the order-completed notice mailed through the event plane", timeout=20)
        assert mail["to"] == email.lower()
        hubs = (await seeded_api.get("/ops-api/v1/events/hubs")).json()
        (notifier,) = [h for h in hubs if h["kind"] == "notifier"]
        assert notifier["cursorId"] > 0 and notifier["state"] == "active"


async def test_a_dispatcher_continues_as_new_with_its_counts(seeded_api, seeded_db, worker, temporal_env, monkeypatch):
    monkeypatch.setenv("BSS_EVENT_LINGER_S", "0")  # one turn per wake-up, so a few events make a few runs
    get_settings.cache_clear()
    try:
        async with listening() as listener, waking(temporal_env.client, seeded_db):
            hub = await subscribe(seeded_api, CUSTOMER, listener.url, "eventType=CustomerCreateEvent")
            handle = await temporal_env.client.start_workflow(
                EventDispatchWorkflow.run, DispatchStart(subscription_id=hub["id"], continue_after=2),
                id=dispatch_workflow_id(hub["id"]), task_queue=queues.EVENTS,
                id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING)
            first_run = handle.result_run_id
            customers = []
            for n in range(1, 4):
                customers.append(await ready_customer(seeded_api, card=None, verified=False))
                await until(lambda n=n: asyncio.sleep(0, len(listener.received) >= n), "delivered")
            assert [e["event"]["customer"]["id"] for e in listener.events()] == customers
            latest = temporal_env.client.get_workflow_handle(dispatch_workflow_id(hub["id"]))

            async def moved_on() -> bool:
                return (await latest.describe()).run_id != first_run

            await until(moved_on, "the dispatcher continued as new")
            status = await latest.query(EventDispatchWorkflow.status)
            assert status.delivered == 3 and status.turns_this_run <= 2, status
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
