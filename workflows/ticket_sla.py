"""TicketSlaWorkflow: the one loop per stack that escalates trouble tickets past their SLA.

Each turn asks the database for the next ticket deadline and the stack's business time (a local
activity), escalates every overdue ticket (`escalate_breached_tickets`, which flags each one once),
then sleeps until the next deadline or `interval`, whichever comes first: a known deadline is met
to the second, and a ticket opened during a sleep waits at most `interval`.

Business time is `workflow.now()` plus the stack clock offset the loop started under (DESIGN.md §6),
so `bss clock advance` on a time-skipping stack moves it like a line. There the loop must not tick
through an advance every `interval` (30 days would be 8,640 turns, past the advance's timeout and
Temporal's history limit): the worker's `core.clock` is already at the advance's end when the loop
first wakes inside it, so it sleeps straight to that instant, stopping at each deadline on the way.

History stays small: the loop continues-as-new every `can_every_turns` turns, or when Temporal
suggests it. On a scenario stack only after a turn taken at the stack's own time, never inside an
advance, as lines never do (notes/temporal.md §1.4.2): in a toy loop on this server build, a
fast-forward that crossed two continue-as-news in a row stopped at the second, and the new run's
clock later jumped by what was left.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.ticket import escalate_breached_tickets
    from activities.ticket_sla import ticket_sla_outlook
    from domain.ticket_sla_flow import SlaOutlook, TicketSlaStart, TicketSlaStatus
    from workflows.retries import STEP, SWEEP

# One per stack: started with this id and `USE_EXISTING`, so a second start joins the first.
TICKET_SLA_WORKFLOW_ID = "ticket-sla-escalation"
# What the queue hosting the workflow must also host (the look-ahead runs as a local activity).
ACTIVITIES = [ticket_sla_outlook, escalate_breached_tickets]
# A deadline counts as passed only strictly after it, and a timer may fire a hair early.
PAST_DUE = timedelta(seconds=1)
# Failed sweeps back off (interval, 2×, 4×, …) up to this, rather than hammering a database that is away.
MAX_BACKOFF = timedelta(hours=1)


@workflow.defn(name="TicketSlaWorkflow")
class TicketSlaWorkflow:
    """Escalate tickets past their SLA, forever, one sweep per deadline or interval."""

    @workflow.init
    def __init__(self, start: TicketSlaStart) -> None:
        self._interval = start.interval
        self._can_every = start.can_every_turns
        self._turns = start.turns
        self._escalated = start.escalated
        self._wake_at = start.wake_at
        self._scenario_clock = start.scenario_clock
        self._offset = start.scenario_clock.offset if start.scenario_clock else timedelta(0)
        self._turns_this_run = 0
        self._failures = 0

    @workflow.run
    async def run(self, start: TicketSlaStart) -> None:
        while True:
            if self._wake_at is not None and (delay := self._wake_at - self._now()) > timedelta(0):
                await workflow.sleep(delay)
            at_stack_time = await self._turn()
            if at_stack_time and (self._turns_this_run >= self._can_every
                                  or workflow.info().is_continue_as_new_suggested()):
                workflow.continue_as_new(self._carry())

    @workflow.query
    def status(self) -> TicketSlaStatus:
        """The loop's counters and the business time of its next sweep."""
        return TicketSlaStatus(turns=self._turns, escalated=self._escalated, turns_this_run=self._turns_this_run,
                               wake_at=self._wake_at)

    async def _turn(self) -> bool:
        """Sweep once and plan the next wake-up; return whether the turn ran at the stack's own time."""
        now = self._now()
        self._turns += 1
        self._turns_this_run += 1
        try:
            look: SlaOutlook = await workflow.execute_local_activity(
                ticket_sla_outlook, now, start_to_close_timeout=STEP, retry_policy=SWEEP)
            # Never escalate ahead of the stack's business time, whatever happened to this run's clock.
            as_of = min(now, look.business_now) if self._scenario_clock is not None else now
            result = await workflow.execute_activity(escalate_breached_tickets, as_of, start_to_close_timeout=STEP,
                                                     retry_policy=SWEEP)
        except ActivityError as err:
            self._failures += 1
            backoff = min(self._interval * 2 ** min(self._failures - 1, 10), MAX_BACKOFF)
            workflow.logger.warning("ticket SLA sweep failed (%d in a row), next in %s: %s", self._failures,
                                    backoff, err.cause or err)
            self._wake_at = now + backoff
            return self._scenario_clock is None  # the stack's time is unknown: do not risk a continue-as-new
        self._failures = 0
        self._escalated += len(result.ticket_ids)
        self._wake_at = self._next_wake(now, look)
        return self._scenario_clock is None or look.business_now - now < self._interval

    def _next_wake(self, now: datetime, look: SlaOutlook) -> datetime:
        horizon = now + self._interval
        if self._scenario_clock is not None and look.business_now > horizon:
            # Inside `bss clock advance`: the stack is already at its end (no ticket opens meanwhile).
            horizon = look.business_now
        return horizon if look.next_due is None else min(horizon, look.next_due + PAST_DUE)

    def _carry(self) -> TicketSlaStart:
        return TicketSlaStart(interval=self._interval, can_every_turns=self._can_every, turns=self._turns,
                              escalated=self._escalated, wake_at=self._wake_at, scenario_clock=self._scenario_clock)

    def _now(self) -> datetime:
        """Business time: the workflow clock plus the stack offset it started under (zero off scenario stacks)."""
        return workflow.now() + self._offset
