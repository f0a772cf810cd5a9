"""Input of the ticket SLA escalation workflow and what each of its sweeps learns, shared with the activities.

Loaded inside the Temporal workflow sandbox, so this module imports only the standard library,
pydantic and the scenario clock model.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from domain.scenario_time import ScenarioClock

# 12 history events per turn (13 on a time-skipping server): 200 turns keep a run near 2,600 events,
# under the 4,096 at which Temporal suggests continuing-as-new; at 5 minutes, one run per ~17 hours.
CAN_EVERY_TURNS = 200


class TicketSlaStart(BaseModel):
    """Input of a run of the escalation loop (the first run's, or the one it continues as)."""

    interval: timedelta = Field(default=timedelta(minutes=5), gt=timedelta(0))
    can_every_turns: int = Field(default=CAN_EVERY_TURNS, ge=1)
    turns: int = 0  # sweeps run since the first run (carried across continue-as-new)
    escalated: int = 0  # tickets escalated since the first run (carried)
    wake_at: datetime | None = None  # business time the previous run meant to look next; None: look at once
    scenario_clock: ScenarioClock | None = None  # time-skipping stack: business time = workflow.now() + offset


class SlaOutlook(BaseModel):
    """What the sweep needs to plan its next turn: the stack's business time and the next SLA deadline."""

    business_now: datetime  # core.clock in the worker: on a scenario stack already at an advance's end
    next_due: datetime | None  # the earliest deadline after `as_of` of an unresolved, unescalated ticket


class TicketSlaStatus(BaseModel):
    """The loop's own counters, for operators and tests (a query)."""

    turns: int
    escalated: int
    turns_this_run: int  # turns of the current run (continue-as-new resets it)
    wake_at: datetime | None
