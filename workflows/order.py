"""OrderWorkflow: order-to-activation as a saga that can never strand a paid order.

reserve MSISDN + eSIM → charge the card on file → service order (CFS/RFS) → provisioning tasks
(concurrently; a stuck task waits for an operator) → subscription → completed. Each step
registers its undo before it runs (every undo is idempotent, so undoing a step that never
happened is harmless); a business failure or a cancel runs the undos in reverse and ends the
order `failed`/`cancelled` with a reason. Each undo runs on its own: one that fails for good (a
refund the gateway declines) is recorded on the order, its event and the `UndoFailed` search
attribute, and the others still run. Activation tasks that completed are reversed on their
elements (HLR, PCRF, OCS, SM-DP+) before the number and the eSIM go back; a resource an element
still holds because its reverse task failed stays out of the pool (a failed undo, as above).
Cancel is accepted only until provisioning starts.

Our own writes run as local activities in three stages of one transaction each (reserve, start
provisioning, activate: `activities/order_stages.py`), so the order's critical path is those three,
the charge and the network tasks; the activate stage also closes the order `completed`, and the
line workflow's start follows it off the client's path.

Versioning: any change to this workflow's command sequence gets a new `workflow.patched` id and a
new recorded history (docs/WORKFLOW_VERSIONING.md); none is needed yet, nothing has been released.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.workflow import ParentClosePolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.inventory import release_reservations
    from activities.order_stages import activate_order, reserve_for_order, start_provisioning
    from activities.ordering import end_order, record_order_step
    from activities.payment import abandon_charge, charge
    from activities.provisioning import mark_task_failed, resolve_stuck_task, run_provisioning_task
    from activities.service_order import cancel_service_order, create_reverse_tasks
    from domain.ordering import OrderStep
    from domain.payment import PaymentResult, RefundStatus
    from domain.subscription_flow import LineView, SubscriptionStart
    from domain.ordering_flow import (
        ActivateOrder, CancelOrder, EndOrder, OrderOutcome, OrderProgress, OrderStepUpdate, PlaceOrder,
        ReserveForOrder, StartProvisioning,
    )
    from domain.provisioning_flow import (
        HELD_ON_FAILURE, REVERSE_TASK, CancelServiceOrder, CreateReverseTasks, MarkTaskFailed, PlannedTask,
        ResolveTask, RunTask, TaskDecision,
    )
    from workflows import queues
    from workflows.retries import INTERNAL, NETWORK, OUTAGE_WINDOW, PAYMENT, PAYMENT_ERRORS, STEP, UNDO
    from workflows.search_attributes import CUSTOMER_ID, ORDER_STATUS, SUBSCRIPTION_ID, UNDO_FAILED
    from workflows.subscription import SubscriptionWorkflow, subscription_workflow_id


class OrderStopped(Exception):
    """Ends the happy path: the order fails or is cancelled with a reason."""

    def __init__(self, state: str, reason: str) -> None:
        super().__init__(reason)
        self.state, self.reason = state, reason


def order_workflow_id(order_id: str) -> str:
    """Workflow id of an order, from its business key."""
    return f"order-{order_id}"


def _reason(err: BaseException) -> str:
    """A readable reason from an activity failure: the rule code and message when we raised it."""
    cause = err.cause if isinstance(err, ActivityError) and err.cause else err
    if isinstance(cause, ApplicationError) and cause.type and "." in cause.type:
        return f"{cause.type}: {cause.message}"
    return str(cause)


@workflow.defn(name="OrderWorkflow")
class OrderWorkflow:
    """Drive one product order from acknowledgement to an active line, or compensate."""

    @workflow.init
    def __init__(self, order: PlaceOrder) -> None:
        self._order = order
        self._step = OrderStep.ACKNOWLEDGED
        self._cancel: CancelOrder | None = None
        self._provisioning_started = False
        self._stuck: set[str] = set()
        self._decisions: dict[str, tuple[str, TaskDecision]] = {}
        self._abort_provisioning = False
        self._undo: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        self._ending_state = ""
        self._ending_reason = ""
        self._completed: list[PlannedTask] = []  # activation tasks done on the network, to reverse on failure
        self._held: list[str] = []  # pools an element still holds after a failed reverse task

    @workflow.run
    async def run(self, order: PlaceOrder) -> OrderOutcome:
        try:
            subscription_id = await self._activate(order)
        except OrderStopped as stop:
            return await self._compensate(stop.state, stop.reason)
        except (ActivityError, ApplicationError) as err:
            # A local step's final refusal (an empty pool at reserve) arrives as the ApplicationError
            # itself, not wrapped in an ActivityError: it ends the order as failed, with its rule code,
            # instead of failing the workflow and leaving the order `acknowledged` for good.
            # A cancel accepted while the charge was still being retried wins over the charge's
            # failure: the operator's decision (and reason) is what ends the order.
            if self._cancel is not None:
                return await self._compensate("cancelled", self._cancel.reason)
            return await self._compensate("failed", _reason(err))
        # The activate stage closed the order and the line workflow has started.
        return OrderOutcome(order_id=order.order_id, state="completed", subscription_id=subscription_id)

    async def _activate(self, order: PlaceOrder) -> str:
        """The saga with our own writes in three transactions: reserve, start provisioning, activate."""
        oid = order.order_id
        self._on_undo("release_reservations", lambda: self._undo_call(release_reservations, oid, self._held))
        held = await self._local(reserve_for_order, ReserveForOrder(order_id=oid,
                                                                    requested_msisdn=order.requested_msisdn))
        self._mark(OrderStep.RESERVED)
        self._stop_if_cancelled()

        payment = await self._charge(order)
        self._stop_if_cancelled()

        self._on_undo("cancel_service_order", lambda: self._undo_call(
            cancel_service_order, CancelServiceOrder(order_id=oid, reason=self._ending_reason,
                                                     failed=self._ending_state == "failed")))
        self._on_undo("deprovision", self._deprovision)
        # From here on cancel is refused (validator): the stage below commits provisioning started.
        self._provisioning_started = True
        self._mark(OrderStep.PROVISIONING)
        plan = await self._local(start_provisioning, StartProvisioning(
            order_id=oid, customer_id=order.customer_id, offering_id=order.offering_id, msisdn=held.msisdn,
            iccid=held.iccid, payment_id=payment.payment_id))
        await self._provision_all(plan.tasks)

        self._mark(OrderStep.ACTIVATING)
        line = await self._local(activate_order, ActivateOrder(
            order_id=oid, customer_id=order.customer_id, offering_id=order.offering_id, msisdn=held.msisdn,
            iccid=held.iccid, payment_id=payment.payment_id, price_minor=order.price_minor,
            currency=order.currency))
        # Crash safety: the stage has committed the order `completed` before the child start below
        # is durable (that happens when this workflow task completes). If the worker dies in
        # between, the workflow task is retried: the stage runs again, finds its line (`_Done`,
        # nothing written), returns the same LineView, and the start is issued again, so a
        # completed order always gets its line workflow. No undo can run from here on: only the
        # child start remains, and its failure is not an ActivityError (never compensated).
        # Cancel stays refused (provisioning started).
        self._mark(OrderStep.COMPLETED)
        # The line's workflow gets the line as activation left it, so it need not load it first.
        await self._start_line_workflow(order, line.subscription_id, line)
        return line.subscription_id

    async def _charge(self, order: PlaceOrder) -> PaymentResult:
        """Charge the card on file once per order; a decline stops the order."""
        oid, key = order.order_id, f"{order.order_id}:charge"
        # Registered before the charge: if the charge step gives up (an outage longer than the window), the
        # gateway may still have approved it, and the undo finds that by the key and refunds it.
        self._on_undo("refund", lambda: self._give_back(order, key))
        payment = await workflow.execute_activity(
            charge, args=[order.customer_id, order.price_minor, order.currency, "activation", oid, key, None,
                          PAYMENT_ERRORS],
            task_queue=queues.PAYMENTS, start_to_close_timeout=STEP, schedule_to_close_timeout=OUTAGE_WINDOW,
            retry_policy=PAYMENT)
        if not payment.approved:
            raise OrderStopped("failed", f"payment.declined: {payment.decline_code or payment.status}")
        return payment

    async def _give_back(self, order: PlaceOrder, key: str) -> None:
        """Settle the charge for good: nothing taken stays so; what was taken (less a CSR's refunds) goes back."""
        done = await workflow.execute_activity(
            abandon_charge, args=[order.customer_id, order.price_minor, order.currency, "activation", order.order_id,
                                  key, f"{order.order_id}:refund", "order did not complete"],
            task_queue=queues.PAYMENTS, start_to_close_timeout=STEP, retry_policy=UNDO)
        if done.refund is not None and done.refund.status != RefundStatus.APPROVED:
            # The gateway's decline is final for this key: retrying cannot bring the money back.
            raise ApplicationError(f"the gateway declined the refund of {done.refund.amount_minor} "
                                   f"({done.refund.decline_code})", type="payment.refund.declined", non_retryable=True)

    async def _start_line_workflow(self, order: PlaceOrder, subscription_id: str, line: LineView) -> None:
        """Hand the line to its own long-running workflow; it outlives this order, hence ABANDON."""
        await workflow.start_child_workflow(
            SubscriptionWorkflow.run, SubscriptionStart(subscription_id=subscription_id, line=line,
                                                        scenario_clock=order.scenario_clock),
            id=subscription_workflow_id(subscription_id), task_queue=queues.SUBSCRIPTIONS,
            parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(CUSTOMER_ID, order.customer_id),
                SearchAttributePair(SUBSCRIPTION_ID, subscription_id)]))

    # --- provisioning -------------------------------------------------------------------------

    async def _provision_all(self, tasks: list[PlannedTask]) -> None:
        results = await asyncio.gather(*(self._provision(t) for t in tasks), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise OrderStopped("failed", _reason(failures[0]))

    async def _provision(self, task: PlannedTask) -> None:
        """Run one task to completion, and remember it: a failed order reverses it on the network."""
        await self._run_until_done(task)
        self._completed.append(task)

    async def _run_until_done(self, task: PlannedTask) -> None:
        """Run one task; when it is stuck, wait for an operator to resolve or retry it."""
        while True:
            try:
                outcome = await workflow.execute_activity(
                    run_provisioning_task, RunTask(task_id=task.task_id), task_queue=queues.PROVISIONING,
                    start_to_close_timeout=STEP, heartbeat_timeout=timedelta(seconds=5),
                schedule_to_close_timeout=OUTAGE_WINDOW, retry_policy=NETWORK)
            except ActivityError as err:
                self._abort_provisioning = True  # do not leave sibling tasks waiting for an operator
                given_up = await self._remote(mark_task_failed, MarkTaskFailed(task_id=task.task_id,
                                                                               error=_reason(err)),
                                              task_queue=queues.PROVISIONING)
                # A timed-out attempt may still have completed the task on the element; then it is done.
                # A sibling stuck meanwhile has been released by the flag above and fails the order itself.
                if given_up is not None and given_up.status == "completed":
                    return
                raise
            if outcome.status != "stuck":
                return
            self._stuck.add(task.task_id)
            await self._record(OrderStep.STUCK)
            await workflow.wait_condition(lambda: task.task_id in self._decisions or self._abort_provisioning)
            self._stuck.discard(task.task_id)
            if task.task_id not in self._decisions:
                raise OrderStopped("failed", f"provisioning aborted while {task.task_type} was stuck")
            kind, decision = self._decisions.pop(task.task_id)
            if not self._stuck:
                await self._record(OrderStep.PROVISIONING)
            if kind == "resolve":
                await self._remote(resolve_stuck_task, ResolveTask(task_id=task.task_id, note=decision.note,
                                                                    actor=decision.actor),
                                   task_queue=queues.PROVISIONING)
                return

    async def _deprovision(self) -> None:
        """Undo every completed activation task on its element, before the number and eSIM go back."""
        if not self._completed:
            return
        tasks = await self._remote(create_reverse_tasks, CreateReverseTasks(
            order_id=self._order.order_id, task_types=[REVERSE_TASK[t.task_type] for t in self._completed]),
            task_queue=queues.PROVISIONING)
        errors = await asyncio.gather(*(self._reverse(t) for t in tasks))
        failed = [(t, error) for t, error in zip(tasks, errors, strict=True) if error is not None]
        if failed:
            # What an element still knows (the subscriber's number, the profile) must not be handed
            # to the next customer: the release undo leaves it reserved for this order.
            self._held = sorted({HELD_ON_FAILURE[t.task_type] for t, _ in failed})
            why = "; ".join(f"{t.task_type} {t.task_id}: {error}" for t, error in failed)
            raise ApplicationError(f"{why} (held out of the pool: {', '.join(self._held)})",
                                   type="provisioning.deprovision.failed", non_retryable=True)

    async def _reverse(self, task: PlannedTask) -> str | None:
        """Run one reverse task: None when it is done, else why not (a stuck one is left to an operator)."""
        try:
            outcome = await workflow.execute_activity(
                run_provisioning_task, RunTask(task_id=task.task_id), task_queue=queues.PROVISIONING,
                start_to_close_timeout=STEP, heartbeat_timeout=timedelta(seconds=5),
                schedule_to_close_timeout=OUTAGE_WINDOW, retry_policy=NETWORK)
        except ActivityError as err:
            given_up = await self._remote(mark_task_failed, MarkTaskFailed(task_id=task.task_id, error=_reason(err)),
                                          task_queue=queues.PROVISIONING)
            return None if given_up is not None and given_up.status == "completed" else _reason(err)
        return None if outcome.status == "completed" else "stuck, left for an operator"

    # --- operator and client messages -----------------------------------------------------------

    @workflow.update
    async def cancel(self, request: CancelOrder) -> str:
        """Stop the order and compensate (accepted only before provisioning starts)."""
        self._cancel = request
        return "cancel accepted"

    @cancel.validator
    def _validate_cancel(self, request: CancelOrder) -> None:
        if self._provisioning_started:
            raise ValueError("order.cancel.not_after_provisioning_started: terminate the subscription instead")
        if self._step in (OrderStep.COMPENSATING, OrderStep.FAILED, OrderStep.CANCELLED, OrderStep.COMPLETED):
            raise ValueError(f"order.transition.invalid: the order is already {self._step.lower()}")

    @workflow.update
    async def resolve_task(self, decision: TaskDecision) -> str:
        """An operator fixed a stuck task by hand; complete it with their note."""
        self._decisions[decision.task_id] = ("resolve", decision)
        return "resolve accepted"

    @resolve_task.validator
    def _validate_resolve(self, decision: TaskDecision) -> None:
        if decision.task_id not in self._stuck:
            raise ValueError(f"provisioning.resolve.requires_stuck_with_note: {decision.task_id} is not stuck here")
        if not decision.note.strip():
            raise ValueError("provisioning.resolve.requires_stuck_with_note: a note is required")

    @workflow.update
    async def retry_task(self, decision: TaskDecision) -> str:
        """An operator asks to run a stuck task again."""
        self._decisions[decision.task_id] = ("retry", decision)
        return "retry accepted"

    @retry_task.validator
    def _validate_retry(self, decision: TaskDecision) -> None:
        if decision.task_id not in self._stuck:
            raise ValueError(f"provisioning.retry.requires_failed_within_budget: {decision.task_id} is not waiting")

    @workflow.query
    def progress(self) -> OrderProgress:
        """Where the order is now."""
        return OrderProgress(order_id=self._order.order_id, step=self._step.value,
                             stuck_task_ids=sorted(self._stuck), cancel_requested=self._cancel is not None,
                             provisioning_started=self._provisioning_started)

    # --- helpers ----------------------------------------------------------------------------------

    def _stop_if_cancelled(self) -> None:
        if self._cancel is not None:
            raise OrderStopped("cancelled", self._cancel.reason)

    def _on_undo(self, name: str, action: Callable[[], Awaitable[None]]) -> None:
        self._undo.append((name, action))

    async def _compensate(self, state: str, reason: str) -> OrderOutcome:
        """Run every registered undo in reverse, then end the order with its reason."""
        self._ending_state, self._ending_reason = state, reason
        await self._record(OrderStep.COMPENSATING)
        self._abort_provisioning = True
        failed: list[tuple[str, str]] = []
        for name, action in reversed(self._undo):
            try:
                await action()
            except (ActivityError, ApplicationError) as err:
                # Undos retry until they succeed (UNDO), so only a final refusal lands here. It must
                # not keep the others from running: the number and eSIM go back whatever the money did.
                failed.append((name, _reason(err)))
        if failed:
            workflow.upsert_search_attributes([UNDO_FAILED.value_set(",".join(name for name, _ in failed))])
        final = OrderStep.CANCELLED if state == "cancelled" else OrderStep.FAILED
        await self._record(final)
        await self._local(end_order, EndOrder(order_id=self._order.order_id, state=state, reason=reason,
                                              failed_undos=[f"{name}: {why}" for name, why in failed]))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return OrderOutcome(order_id=self._order.order_id, state=state, reason=reason)

    async def _undo_call(self, activity, *args, task_queue: str = queues.ORDERS) -> None:
        await workflow.execute_activity(activity, args=list(args), task_queue=task_queue,
                                        start_to_close_timeout=STEP, retry_policy=UNDO)

    async def _local(self, activity, *args):
        # Our own short DB steps run as local activities in this worker: no round trip through the
        # server per step (~7 ms instead of ~25 ms here). They are idempotent on business keys, so
        # re-running one after a crash is safe.
        return await workflow.execute_local_activity(activity, args=list(args), start_to_close_timeout=STEP,
                                                     retry_policy=INTERNAL)

    async def _remote(self, activity, *args, task_queue: str):
        return await workflow.execute_activity(activity, args=list(args), task_queue=task_queue,
                                               start_to_close_timeout=STEP, retry_policy=INTERNAL)

    def _mark(self, step: OrderStep) -> None:
        """Show the step to queries and to the Web UI (the order row is written by the stage activities)."""
        self._step = step
        workflow.upsert_search_attributes([ORDER_STATUS.value_set(step.value)])

    async def _record(self, step: OrderStep, **values: object) -> None:
        self._mark(step)
        await self._local(record_order_step, OrderStepUpdate(order_id=self._order.order_id, step=step.value,
                                                                **values))
