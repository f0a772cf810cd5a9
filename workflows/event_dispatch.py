"""EventDispatchWorkflow: one per event subscription (a TMF hub, or the customer notifier), forever.

Each turn runs `deliver_batch` (activities/event_delivery.py), which sends the next events past the
subscription's cursor in order and moves the cursor with each delivery. A failed POST fails the
activity, and Temporal retries it with backoff; the activity itself gives up on one event after its
attempts budget, so one poisoned event never stops a hub.

With nothing left to send the workflow waits for the `events_available` signal, which the worker's
waker (workers/event_waker.py) sends when `audit.domain_event` gets rows. It waits on the signal
alone, with no timer: a perpetual timer would let a time-skipping server race the loop ahead
(notes/temporal.md §1.4.3). A signal that arrives while a batch runs is kept in `_pending`, so no
wake-up is lost. The history is bounded by continuing-as-new every `continue_after` turns.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy

with workflow.unsafe.imports_passed_through():
    from activities.event_delivery import deliver_batch
    from workflows import queues

# A listener that is down: first retry after 1 s, doubling to a minute (the attempts are counted per event).
DELIVERY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                       maximum_interval=timedelta(minutes=1))
# A batch is up to `event_batch_size` POSTs, each bounded by `event_delivery_timeout_s`; it heartbeats per event.
BATCH_TIMEOUT = timedelta(minutes=10)
HEARTBEAT = timedelta(seconds=30)


def dispatch_workflow_id(subscription_id: str) -> str:
    """Workflow id of a subscription's dispatcher."""
    return f"event-dispatch-{subscription_id}"


class DispatchStart(BaseModel):
    """Start (or continue) a subscription's dispatcher."""

    subscription_id: str
    continue_after: int = 500  # turns per run before continue-as-new
    delivered: int = 0  # carried across runs, for the status query
    failed: int = 0


async def wake(client: Any, subscription_id: str) -> None:
    """Signal a subscription's dispatcher that events may be waiting, starting it when it is not running."""
    await client.start_workflow(
        EventDispatchWorkflow.run, DispatchStart(subscription_id=subscription_id),
        id=dispatch_workflow_id(subscription_id), task_queue=queues.EVENTS,
        start_signal="events_available", id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)


class DispatchStatus(BaseModel):
    """The dispatcher's counters."""

    delivered: int
    failed: int
    turns_this_run: int


@workflow.defn(name="EventDispatchWorkflow")
class EventDispatchWorkflow:
    """Deliver a subscription's events, batch after batch, waking on `events_available`."""

    @workflow.init
    def __init__(self, start: DispatchStart) -> None:
        self._pending = True  # a new run looks once: events may have arrived while nobody listened
        self._delivered = start.delivered
        self._failed = start.failed
        self._turns = 0

    @workflow.signal
    def events_available(self) -> None:
        """New rows may be in the audit log."""
        self._pending = True

    @workflow.query
    def status(self) -> DispatchStatus:
        """What this dispatcher has sent so far."""
        return DispatchStatus(delivered=self._delivered, failed=self._failed, turns_this_run=self._turns)

    @workflow.run
    async def run(self, start: DispatchStart) -> None:
        while self._turns < start.continue_after:
            await workflow.wait_condition(lambda: self._pending)
            self._pending = False
            self._turns += 1
            result = await workflow.execute_activity(
                deliver_batch, start.subscription_id, start_to_close_timeout=BATCH_TIMEOUT,
                heartbeat_timeout=HEARTBEAT, retry_policy=DELIVERY)
            self._delivered += result.delivered
            self._failed += result.failed
            if result.gone:
                return
            if result.more:
                self._pending = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(DispatchStart(
            subscription_id=start.subscription_id, continue_after=start.continue_after,
            delivered=self._delivered, failed=self._failed))
