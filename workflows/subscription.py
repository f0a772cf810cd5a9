"""SubscriptionWorkflow: one long-running entity per line, from activation to the number's return to the pool.

It owns the period timer: at the period end it charges the *snapshotted* price (a scheduled plan
change or a due price migration pivots there), resets the bundle and bills; a declined renewal
blocks the line at once (no grace) until an explicit renew is paid. VAS purchases, renew, plan
change and termination are validated updates (a refused update leaves no history); a day pass
lapses on its own timer. Rating signals `data_exhausted`; the network lane pushes PCRF block and
unblock. After termination the workflow sleeps out the number's quarantine, recycles it, ends.

Determinism: business time is `workflow.now()` (plus the stack clock offset it started under on a
time-skipping stack, DESIGN.md §6), handed to activities as `as_of`; timers are durations to the
next business instant. Every money and line write is idempotent on a business
key (`sub-{id}:renewal:{n}`, `sub-{id}:vas:{request}`), so replays and retries never charge twice.
One lock serialises line writes between the timer loop and the update handlers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

# Workflow code of our own is imported normally: it runs (and is checked) inside the sandbox.
from workflows.subscription_money import Money
from workflows.subscription_steps import (
    LineTaskDecisions,
    NetworkLane,
    internal,
    publish,
    quarantine_until,
    refusals,
    refuse,
    sit_out_quarantine,
    step,
)

with workflow.unsafe.imports_passed_through():
    from activities.billing import issue_bill
    from activities.inventory import recycle_quarantined, release_for_termination
    from activities.service_order import create_line_tasks
    from activities.subscription import (
        block_line,
        cancel_plan_change,
        load_line,
        schedule_plan_change,
        terminate_line,
    )
    from activities.subscription_reminder import remind_renewal
    from activities.subscription_renewal import apply_renewal, renewal_terms
    from activities.subscription_vas import expire_vas, grant_vas, vas_offer
    from domain.subscription_flow import (
        RECENT_REQUESTS,
        CancelPlanChange,
        ChangePlan,
        DataEvent,
        DropPlanChange,
        EndLine,
        ExpireVas,
        LineView,
        PurchaseVas,
        RecentRequest,
        Renewed,
        RenewNow,
        SchedulePlanChange,
        SubscriptionSnapshot,
        SubscriptionStart,
        TerminateLine,
        VasPurchased,
    )
    from policies import subscription as rules

# What the SUBSCRIPTIONS queue must host besides the workflow (payments and network tasks run on theirs).
ACTIVITIES = [load_line, block_line, schedule_plan_change, cancel_plan_change, terminate_line, renewal_terms,
              apply_renewal, vas_offer, grant_vas, expire_vas, create_line_tasks, release_for_termination,
              recycle_quarantined, issue_bill, remind_renewal]

# How long a top-up waits for the ended period's renewal before it is refused (`renewal_pending`).
RENEWAL_PATIENCE = timedelta(seconds=1)
# A timer may fire a hair before the instant it was set for (durations are rounded); treat that as due.
EARLY = timedelta(seconds=1)
# How long before a period end the customer is reminded of the renewal (amount and card; SPEC §10).
REMINDER_AHEAD = timedelta(days=3)
# How long a period boundary waits for in-flight work before it gives up continuing-as-new this time.
QUIET_PATIENCE = timedelta(hours=1)
# How long a long history turns new updates away while the run drains before continuing as new.
DRAIN_PATIENCE = timedelta(seconds=30)
CONTINUING = "subscription.update.continuing_as_new"


def subscription_workflow_id(subscription_id: str) -> str:
    """Workflow id of a line, from its business key."""
    return f"subscription-{subscription_id}"


@workflow.defn(name="SubscriptionWorkflow")
class SubscriptionWorkflow(LineTaskDecisions):
    """Run one line's lifecycle: renewals, VAS, plan changes, blocks, termination and quarantine."""

    @workflow.init
    def __init__(self, start: SubscriptionStart) -> None:
        self._id = start.subscription_id
        self._can_every = start.can_every_renewals
        self._history_bound = start.history_bound
        self._line: LineView | None = start.line
        self._renewals = start.renewals
        self._renewals_this_run = 0
        self._timers = list(start.vas_timers)
        self._recent = list(start.recent_requests)
        self._lock = asyncio.Lock()
        self._renewing = False  # a period-end renewal is being charged (the lock is free meanwhile)
        self._draining = False  # about to continue as new: updates are turned away until it does
        self._wake = False
        self._published: tuple | None = None
        self._network = NetworkLane(self._id, start.network_blocked, start.network_seq,
                                    want_blocked=lambda: self._state() == "blocked",
                                    terminated=lambda: self._state() == "terminated")
        self._money = Money(self._id)
        self._scenario_clock = start.scenario_clock
        self._offset = start.scenario_clock.offset if start.scenario_clock else timedelta(0)
        self._reminders = False  # set in run(): histories recorded before the reminder never set its timer
        self._reminded: int | None = None  # the period whose reminder is recorded (the activity is once anyway)

    @workflow.run
    async def run(self, start: SubscriptionStart) -> str:
        self._reminders = workflow.patched("renewal-reminder")
        if self._line is None:
            self._line = await internal(load_line, self._id)
        self._publish()
        network = asyncio.create_task(self._network.run())
        while self._state() != "terminated":
            await self._sleep_until_something_is_due()
            async with self._lock:
                await self._expire_due_passes()
                await self._remind_if_due()
                claimed = self._claim_renewal()
            renewed = await self._renew_on_schedule() if claimed else False
            if self._time_to_continue_as_new(renewed) and await self._quiet(drain=self._history_long()):
                workflow.continue_as_new(self._carry())
        await network  # deprovisioned
        await sit_out_quarantine(self._line, self._now)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return "terminated"

    # --- the period timer --------------------------------------------------------------------------

    async def _sleep_until_something_is_due(self) -> None:
        self._wake = False
        due = self._next_due()
        if due is None:
            await workflow.wait_condition(lambda: self._wake)
            return
        timeout = due - self._now()
        if timeout <= timedelta(0):
            return
        try:
            await workflow.wait_condition(lambda: self._wake, timeout=timeout)
        except TimeoutError:
            pass

    def _next_due(self) -> datetime | None:
        """The next business instant: the period end (unless awaiting payment), its reminder or a pass expiry."""
        instants = [t.expires_at for t in self._timers]
        if self._renewal_scheduled():
            instants.append(self._line.period_end)
            if (reminder := self._reminder_at()) is not None:
                instants.append(reminder)
        return min(instants, default=None)

    def _reminder_at(self) -> datetime | None:
        """When this period's renewal reminder is due; None once recorded, or for a period too short for one."""
        line = self._line
        if not self._reminders or line is None or self._reminded == line.period_number:
            return None
        at = line.period_end - REMINDER_AHEAD
        return at if line.period_start is None or at > line.period_start else None

    async def _remind_if_due(self) -> None:
        """Record the renewal reminder when its instant has come (the notifier mails it)."""
        at = self._reminder_at() if self._renewal_scheduled() else None
        if at is None or self._now() + EARLY < at or self._now() >= self._line.period_end:
            return
        await internal(remind_renewal, self._id, self._line.period_number)
        self._reminded = self._line.period_number

    def _renewal_scheduled(self) -> bool:
        line = self._line
        return (line is not None and line.state in ("active", "blocked")
                and line.blocked_reason != "renewal_declined")

    def _renewal_due(self) -> bool:
        return self._renewal_scheduled() and self._now() + EARLY >= self._line.period_end

    def _claim_renewal(self) -> bool:
        """Take the period-end renewal if it is due and not already being charged (no await: one step)."""
        if self._renewing or not self._renewal_due():
            return False
        self._renewing = True
        return True

    async def _renew_on_schedule(self) -> bool:
        """Charge the next period with the lock free, then settle it under the lock (decline → blocked at once).

        The charge may retry for minutes on a failing card; terminate, plan changes and rating's blocks must
        not wait for it, so only the settling holds the lock, against the line as it is by then.
        """
        try:
            charged = await self._money.charge_renewal(self._line)
            async with self._lock:
                outcome = await self._money.settle_renewal(self._line, charged, self._now())
                self._line = outcome.line
                if outcome.renewed:
                    self._renewals += 1
                    self._renewals_this_run += 1
                self._publish()
            return outcome.renewed
        finally:
            self._renewing = False

    def _time_to_continue_as_new(self, renewed: bool) -> bool:
        """After a paid renewal every `can_every` renewals, or at any turn once the history is long."""
        if self._scenario_clock is not None:
            # Scenario time moves by fast-forward, and a continue-as-new inside one shifts the new
            # run's clock twice on this server (notes/temporal.md §1.4.2): one run per line there.
            return False
        return (renewed and self._renewals_this_run >= self._can_every) or self._history_long()

    def _wake_if_long(self) -> None:
        """Many updates or signals and no timer due: turn new updates away and let the loop continue as new."""
        if self._history_long() and self._scenario_clock is None:
            self._wake = True
            self._draining = True

    def _history_long(self) -> bool:
        info = workflow.info()
        return info.get_current_history_length() >= self._history_bound or info.is_continue_as_new_suggested()

    async def _expire_due_passes(self) -> None:
        now = self._now()
        for timer in sorted((t for t in self._timers if t.expires_at <= now + EARLY), key=lambda t: t.expires_at):
            self._line = await internal(expire_vas, ExpireVas(subscription_id=self._id, grant_key=timer.grant_key,
                                                              as_of=now))
            self._timers.remove(timer)
        self._publish()

    async def _quiet(self, drain: bool = False) -> bool:
        """Wait (bounded) until no handler runs and the network is in step; never continue-as-new mid-step.

        A task stuck on an operator may keep the lane busy for days: then this boundary is skipped
        and the next one tried, rather than holding the period timer hostage. With `drain` (the history
        is long) new updates are turned away meanwhile, so a steady stream of them cannot keep the run
        open; the API retries them on the next run.
        """
        self._draining = drain
        try:
            await workflow.wait_condition(lambda: workflow.all_handlers_finished() and self._network.idle(),
                                          timeout=DRAIN_PATIENCE if drain else QUIET_PATIENCE)
        except TimeoutError:
            return False
        finally:
            self._draining = False
        return self._state() != "terminated"

    def _carry(self) -> SubscriptionStart:
        return SubscriptionStart(subscription_id=self._id, can_every_renewals=self._can_every,
                                 history_bound=self._history_bound,
                                 renewals=self._renewals, line=self._line, vas_timers=self._timers,
                                 recent_requests=self._recent[-RECENT_REQUESTS:],
                                 network_blocked=self._network.blocked, network_seq=self._network.seq,
                                 scenario_clock=self._scenario_clock)

    # --- updates: VAS, renew, plan change, terminate ---------------------------------------------------
    # Validators run the policies on the workflow's view (a refused update leaves no history); the
    # handler runs them again once it holds the lock, as the line may have changed while it waited.

    @workflow.update
    async def purchase_vas(self, request: PurchaseVas) -> VasPurchased:
        """Buy a VAS: charge the card, add the allowance, bill it; unblock only if data is restored."""
        async with self._serving(request, catch_up=True):
            if (done := self._served(request)) is not None:
                return self._money.vas_replay(done, self._line)
            bought = await self._money.buy_vas(self._line, request, self._now())
            self._line = bought.line
            if bought.timer is not None:
                self._timers.append(bought.timer)
                self._wake = True  # a new expiry to sleep to
            self._remember(bought.served)
            return bought.result

    @workflow.update
    async def renew(self, request: RenewNow) -> Renewed:
        """Renew now: charge first, then start the period and lift any block (retried until it holds)."""
        async with self._serving(request):
            if (done := self._served(request)) is not None:
                return self._money.renew_replay(done, self._line)
            result = await self._money.renew_now(self._line, request, self._now())
            self._line = result.line
            self._renewals += 1
            self._remember(self._money.served_renewal(request, result))
            self._wake = True  # a new period end to sleep to
            return result

    @workflow.update
    async def change_plan(self, request: ChangePlan) -> LineView:
        """Schedule a plan change; it pivots at the next renewal with the new plan's price."""
        async with self._serving(request):
            self._line = await step(schedule_plan_change, SchedulePlanChange(
                subscription_id=self._id, offering_id=request.offering_id, as_of=self._now(), **request.acting()))
            return self._line

    @workflow.update
    async def cancel_plan_change(self, request: CancelPlanChange) -> LineView:
        """Drop the scheduled plan change; the line renews on its current plan."""
        async with self._serving(request):
            self._line = await step(cancel_plan_change, DropPlanChange(
                subscription_id=self._id, as_of=self._now(), **request.acting()))
            return self._line

    @workflow.update
    async def terminate(self, request: TerminateLine) -> LineView:
        """End the line: terminated now, number to quarantine, eSIM recycled; the network is deprovisioned next."""
        async with self._serving(request):
            now = self._now()
            self._line = await step(terminate_line, EndLine(subscription_id=self._id, reason=request.reason,
                                                            as_of=now, **request.acting()))
            # Quarantine until termination + 90 days: the same instant the workflow sleeps to.
            await internal(release_for_termination, self._id, self._line.terminated_at or now)
            self._timers.clear()
            self._wake = True
            return self._line

    @purchase_vas.validator
    def _validate_vas(self, request: PurchaseVas) -> None:
        self._validate(request)

    @renew.validator
    def _validate_renew(self, request: RenewNow) -> None:
        self._validate(request)

    @change_plan.validator
    def _validate_change_plan(self, request: ChangePlan) -> None:
        self._validate(request)

    @cancel_plan_change.validator
    def _validate_cancel_plan_change(self, request: CancelPlanChange) -> None:
        self._validate(request)

    @terminate.validator
    def _validate_terminate(self, request: TerminateLine) -> None:
        self._validate(request)

    # --- rating --------------------------------------------------------------------------------------------

    @workflow.signal
    async def data_exhausted(self, event: DataEvent | None = None) -> None:
        """Rating blocked the line in the database; reload it so the network lane pushes PCRF_BLOCK."""
        await self._reload()

    @workflow.signal
    async def data_restored(self, event: DataEvent | None = None) -> None:
        """Something outside the workflow restored data; reload the line (the lane pushes PCRF_UNBLOCK)."""
        await self._reload()

    @workflow.query
    def snapshot(self) -> SubscriptionSnapshot:
        """The line as the workflow sees it (state, period, balances at the last write, timers)."""
        return SubscriptionSnapshot(
            subscription_id=self._id, line=self._line, renewals=self._renewals,
            renewals_this_run=self._renewals_this_run,
            next_renewal_at=self._line.period_end if self._renewal_scheduled() else None,
            vas_timers=self._timers, network_blocked=self._network.blocked,
            stuck_task_ids=sorted(self._network.stuck), quarantine_until=quarantine_until(self._line))

    # --- helpers -----------------------------------------------------------------------------------------

    def _now(self) -> datetime:
        """Business time: the workflow's clock plus the stack offset it started under (0 outside scenarios)."""
        return workflow.now() + self._offset

    def _state(self) -> str | None:
        return self._line.state if self._line else None

    async def _ready(self) -> None:
        await workflow.wait_condition(lambda: self._line is not None)

    async def _reload(self) -> None:
        await self._ready()
        async with self._lock:
            if self._state() != "terminated":
                self._line = await internal(load_line, self._id)
                self._publish()
        self._wake_if_long()

    def _validate(self, request: object) -> None:
        if self._draining:  # no history, so the same update id is accepted by the next run
            raise ValueError(f"{CONTINUING}: the line is moving to a new run; send the request again")
        if self._line is None or self._served(request) is not None:
            return  # not loaded yet (the handler checks once it is), or a retry answered as before
        if found := refusals(self._id, self._line, request):
            raise ValueError(rules.first_message(found))

    @asynccontextmanager
    async def _serving(self, request: object, catch_up: bool = False) -> AsyncIterator[None]:
        """Hold the line lock for one update: refuse it if the line changed meanwhile, publish after.

        With `catch_up`, a period that ended while the update waited is renewed first, so a top-up
        lands in the paid period it is bought for (the timer loop may not have woken yet).
        """
        await self._ready()
        if catch_up and self._served(request) is None and (self._renewing or self._renewal_due()):
            await self._await_renewal()
        async with self._lock:
            if self._served(request) is None and (found := refusals(self._id, self._line, request)):
                raise refuse(found)
            yield
            self._publish()
        self._wake_if_long()

    async def _await_renewal(self) -> None:
        """Let the period timer renew the ended period first (briefly): a top-up belongs to the paid period.

        A renewal still being charged after `RENEWAL_PATIENCE` (a failing card, a gateway outage) refuses
        the purchase rather than hold it: the customer is told to try again once the renewal settles.
        """
        self._wake = True  # the loop may not have woken for the period end yet
        try:
            await workflow.wait_condition(lambda: not self._renewing and not self._renewal_due(),
                                          timeout=RENEWAL_PATIENCE)
        except TimeoutError:
            raise ApplicationError(f"the period of {self._id} ended and its renewal is still being charged; "
                                   "try again shortly", type="subscription.vas_purchase.renewal_pending",
                                   non_retryable=True) from None

    def _served(self, request: object) -> RecentRequest | None:
        """The earlier answer to a VAS or renew request id (a client retry), if any."""
        kind = {PurchaseVas: "vas", RenewNow: "renew"}.get(type(request))
        request_id = getattr(request, "request_id", None)
        return next((r for r in self._recent if kind and r.request_id == request_id and r.kind == kind), None)

    def _remember(self, request: RecentRequest) -> None:
        self._recent = [*self._recent, request][-RECENT_REQUESTS:]

    def _publish(self) -> None:
        """Upsert the search attributes operators find the line by (only when they change)."""
        if self._line is not None:
            next_renewal = self._line.period_end if self._renewal_scheduled() else None
            self._published = publish(self._id, self._line, next_renewal, self._published)
