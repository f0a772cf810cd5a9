"""Pieces of the subscription workflow: retry policies, refusals, and the network lane.

The network lane is a coroutine of the workflow that keeps the network in step with the line:
PCRF_BLOCK when the line is blocked, PCRF_UNBLOCK when it is not, the deprovisioning tasks once
it is terminated. It runs beside the business steps, so a stuck network element (which waits for
an operator) never holds up a renewal or a top-up; flapping block/unblock collapses into the
last state, because the lane pushes what the line *is* when it gets to it, not every change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.inventory import recycle_quarantined
    from activities.provisioning import mark_task_failed, resolve_stuck_task, run_provisioning_task
    from activities.service_order import create_line_tasks
    from domain.inventory import QUARANTINE_DAYS
    from domain.provisioning_flow import (
        BLOCK_TASKS, TERMINATION_TASKS, UNBLOCK_TASKS, CreateLineTasks, MarkTaskFailed, PlannedTask, ResolveTask,
        RunTask, TaskDecision, TaskType,
    )
    from domain.subscription_flow import (
        CancelPlanChange, ChangePlan, LineView, PurchaseVas, RenewNow, TerminateLine,
    )
    from policies import subscription as rules
    from workflows import queues
    from workflows.retries import INTERNAL, NETWORK, OUTAGE_WINDOW, STEP
    from workflows.search_attributes import CUSTOMER_ID, NEXT_RENEWAL_AT, PLAN_CODE, SUBSCRIPTION_ID



def refusal(err: BaseException, fallback: str = "subscription.update.failed") -> ApplicationError:
    """The update failure a client sees: typed with the rule code, message `<code>: <why>`."""
    cause = err.cause if isinstance(err, ActivityError) and err.cause else err
    code, message = fallback, str(cause)
    if isinstance(cause, ApplicationError):
        message = cause.message
        if cause.type and "." in cause.type:
            code = cause.type
    if message.startswith(f"{code}: "):
        message = message[len(code) + 2:]
    return ApplicationError(f"{code}: {message}", type=code, non_retryable=True)


def refuse(violations: list) -> ApplicationError:
    """A policy refusal found inside an update handler (the line changed while it waited)."""
    return ApplicationError(rules.first_message(violations), type=violations[0].code, non_retryable=True)


def refusals(subscription_id: str, line: LineView, request: object) -> list:
    """The rules a client update breaks against the workflow's view of the line (validator and handler)."""
    state, pending = line.state, line.pending_offering_id
    if isinstance(request, PurchaseVas):
        return rules.check_vas_purchase(subscription_id, state, request.offering_id,
                                        blocked_reason=line.blocked_reason)
    if isinstance(request, RenewNow):
        return rules.check_renew(subscription_id, state)
    if isinstance(request, ChangePlan):
        if pending == request.offering_id:
            return []  # the same change again: a retry, answered with the line as it is
        return rules.check_plan_change(subscription_id, state, line.offering_id, request.offering_id, pending)
    if isinstance(request, CancelPlanChange):
        return rules.check_cancel_plan_change(subscription_id, state, pending)
    if isinstance(request, TerminateLine):
        return rules.check_terminate(subscription_id, state)
    return []


async def internal(activity, *args):  # an activity reference and its result
    """Run one of our database activities on the workflow's own queue, retrying until it succeeds."""
    return await workflow.execute_activity(activity, args=list(args), start_to_close_timeout=STEP,
                                           retry_policy=INTERNAL)


async def step(activity, *args):
    """A line write inside an update: a business refusal fails the update with its rule code."""
    try:
        return await internal(activity, *args)
    except ActivityError as err:
        raise refusal(err) from err


def publish(subscription_id: str, line: LineView, next_renewal: datetime | None, published: tuple | None) -> tuple:
    """Upsert the line's search attributes when they changed since `published`; return what is published now."""
    values = (line.customer_id, line.offering_id, next_renewal)
    if values != published:
        workflow.upsert_search_attributes([
            SUBSCRIPTION_ID.value_set(subscription_id), CUSTOMER_ID.value_set(line.customer_id),
            PLAN_CODE.value_set(line.offering_id),
            NEXT_RENEWAL_AT.value_set(next_renewal) if next_renewal else NEXT_RENEWAL_AT.value_unset()])
    return values


def quarantine_until(line: LineView | None) -> datetime | None:
    """When a terminated line's number leaves quarantine (termination + 90 days)."""
    ended = line.terminated_at if line else None
    return ended + timedelta(days=QUARANTINE_DAYS) if ended else None


async def sit_out_quarantine(line: LineView | None, now: Callable[[], datetime] = workflow.now) -> None:
    """Sleep until the number's quarantine ends (by the business clock `now`), then return it to the pool."""
    until = quarantine_until(line)
    if until is None:
        return
    if (left := until - now()) > timedelta(0):
        await workflow.sleep(left)
    # `as_of` is never before the quarantine end, even if the timer fired a hair early.
    await internal(recycle_quarantined, max(now(), until))


class LineTaskDecisions:
    """Operator decisions on a stuck line task: the updates the provisioning API sends to `subscription-{id}`."""

    _network: NetworkLane

    @workflow.update
    async def resolve_task(self, decision: TaskDecision) -> str:
        """An operator fixed a stuck line task by hand; complete it with their note."""
        self._network.decisions[decision.task_id] = ("resolve", decision)
        return "resolve accepted"

    @resolve_task.validator
    def _validate_resolve(self, decision: TaskDecision) -> None:
        if decision.task_id not in self._network.stuck:
            raise ValueError(f"provisioning.resolve.requires_stuck_with_note: {decision.task_id} is not stuck here")
        if not decision.note.strip():
            raise ValueError("provisioning.resolve.requires_stuck_with_note: a note is required")

    @workflow.update
    async def retry_task(self, decision: TaskDecision) -> str:
        """An operator asks to run a stuck line task again."""
        self._network.decisions[decision.task_id] = ("retry", decision)
        return "retry accepted"

    @retry_task.validator
    def _validate_retry(self, decision: TaskDecision) -> None:
        if decision.task_id not in self._network.stuck:
            raise ValueError(f"provisioning.retry.requires_failed_within_budget: {decision.task_id} is not waiting")


class NetworkLane:
    """Keep the PCRF in step with the line, deprovision it at the end; wait for operators on stuck tasks."""

    def __init__(self, subscription_id: str, blocked: bool, seq: int, want_blocked: Callable[[], bool],
                 terminated: Callable[[], bool]) -> None:
        self.subscription_id = subscription_id
        self.blocked = blocked          # what the PCRF was last told
        self.seq = seq                  # numbers the occasions, so each push has its own task keys
        self.busy = False
        self.deprovisioned = False
        self.stuck: set[str] = set()
        self.decisions: dict[str, tuple[str, TaskDecision]] = {}
        self._want_blocked = want_blocked
        self._terminated = terminated

    def behind(self) -> bool:
        """True when the network does not yet reflect the line."""
        if self._terminated():
            return not self.deprovisioned
        return self._want_blocked() != self.blocked

    def idle(self) -> bool:
        """True when nothing is in flight and nothing is owed (safe to continue-as-new)."""
        return not self.busy and not self.behind()

    async def run(self) -> None:
        """Push what the line is, whenever the network is behind, until it is deprovisioned."""
        while not self.deprovisioned:
            await workflow.wait_condition(self.behind)
            self.busy = True
            try:
                if self._terminated():
                    await self._push(TERMINATION_TASKS, "terminate")
                    self.deprovisioned = True
                else:
                    want = self._want_blocked()
                    self.seq += 1
                    await self._push(BLOCK_TASKS if want else UNBLOCK_TASKS,
                                     f"{'block' if want else 'unblock'}:{self.seq}")
                    self.blocked = want
            finally:
                self.busy = False

    async def _push(self, task_types: tuple[TaskType, ...], occasion: str) -> None:
        # create_line_tasks is idempotent on (line, occasion, type): a replayed push finds its tasks.
        plan = await internal(create_line_tasks, CreateLineTasks(
            subscription_id=self.subscription_id, task_types=list(task_types), key_suffix=occasion))
        for task in plan.tasks:
            await self._run(task)

    async def _run(self, task: PlannedTask) -> None:
        """Run one task; when stuck, wait for an operator's resolve or retry (updates on the workflow)."""
        while True:
            try:
                outcome = await workflow.execute_activity(
                    run_provisioning_task, RunTask(task_id=task.task_id), task_queue=queues.PROVISIONING,
                    start_to_close_timeout=STEP, schedule_to_close_timeout=OUTAGE_WINDOW,
                    heartbeat_timeout=timedelta(seconds=5), retry_policy=NETWORK)
            except ActivityError as err:
                # Failed for good (the element used the task's attempts, or an outage outlasted the
                # window): the task says so for operators; the line's database state stands.
                await workflow.execute_activity(
                    mark_task_failed, MarkTaskFailed(task_id=task.task_id, error=str(refusal(err).message)),
                    task_queue=queues.PROVISIONING, start_to_close_timeout=STEP, retry_policy=INTERNAL)
                workflow.logger.warning("line task %s (%s) failed: %s", task.task_id, task.task_type, err)
                return
            if outcome.status != "stuck":
                return
            self.stuck.add(task.task_id)
            await workflow.wait_condition(lambda: task.task_id in self.decisions)
            self.stuck.discard(task.task_id)
            kind, decision = self.decisions.pop(task.task_id)
            if kind == "resolve":
                await workflow.execute_activity(
                    resolve_stuck_task, ResolveTask(task_id=task.task_id, note=decision.note, actor=decision.actor),
                    task_queue=queues.PROVISIONING, start_to_close_timeout=STEP, retry_policy=INTERNAL)
                return
