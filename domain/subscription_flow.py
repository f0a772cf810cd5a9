"""Inputs and outputs of the subscription workflow and its activities (pure pydantic: loaded in the sandbox).

Business keys, not Temporal ids, make every write idempotent: `sub-{id}:renewal:{n}` pays period
`n` (the first renewal pays period 2), `sub-{id}:renew:{request}` an explicit renew,
`sub-{id}:vas:{request}` a VAS purchase.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from domain.scenario_time import ScenarioClock

WORKFLOW_CHANNEL = "system:SubscriptionWorkflow"
RECENT_REQUESTS = 32  # request ids remembered across continue-as-new (bounded: carried every run)
# Events in one run of a line before it continues as new: far below Temporal's own warning (10k events),
# small enough that a replay on a worker's cache miss stays cheap.
HISTORY_BOUND = 2_000


def renewal_key(subscription_id: str, period_number: int) -> str:
    """Idempotency key of the charge (and bill) that pays period `period_number`."""
    return f"sub-{subscription_id}:renewal:{period_number}"


def renew_request_key(subscription_id: str, request_id: str) -> str:
    """Idempotency key of the charge of an explicit renew."""
    return f"sub-{subscription_id}:renew:{request_id}"


def vas_key(subscription_id: str, request_id: str) -> str:
    """Idempotency key of a VAS purchase (charge, grant and bill)."""
    return f"sub-{subscription_id}:vas:{request_id}"


class Acting(BaseModel):
    """Who asked for a write; activities record it on the audit event."""

    actor: str = "system"
    channel: str = WORKFLOW_CHANNEL
    service_identity: str = "system"

    def acting(self) -> dict[str, str]:
        """The identity fields alone, to pass the same actor on to an activity."""
        return {"actor": self.actor, "channel": self.channel, "service_identity": self.service_identity}


# --- the line as the workflow sees it ----------------------------------------------------------

class BalanceView(BaseModel):
    """One allowance of the bundle, in base units (-1 = unlimited)."""

    allowance_type: str
    total: int
    consumed: int
    remaining: int


class LineView(BaseModel):
    """A line's state after a write (every subscription activity returns it)."""

    subscription_id: str
    customer_id: str
    state: str
    blocked_reason: str | None = None
    offering_id: str
    price_id: str | None = None
    price_minor: int
    currency: str
    period_days: int
    period_number: int
    period_start: dt.datetime
    period_end: dt.datetime
    pending_offering_id: str | None = None
    pending_price_id: str | None = None
    pending_price_minor: int | None = None
    terminated_at: dt.datetime | None = None
    balances: list[BalanceView] = []


class VasTimer(BaseModel):
    """A VAS that lapses on its own clock (e.g. a 24 h day pass)."""

    grant_key: str
    offering_id: str
    expires_at: dt.datetime


class RecentRequest(BaseModel):
    """A client request already served (a retry gets the same answer, never a second charge)."""

    request_id: str
    kind: str                               # vas | renew
    payment_id: str
    amount_minor: int
    currency: str
    offering_id: str | None = None
    expires_at: dt.datetime | None = None
    period_number: int | None = None


class SubscriptionStart(BaseModel):
    """Start (or continue) the lifecycle of one line; everything else is carried state."""

    subscription_id: str
    can_every_renewals: int = Field(default=12, ge=1)
    # Continue-as-new once a run's history holds this many events, whatever made them (VAS, signals, renewals).
    history_bound: int = Field(default=HISTORY_BOUND, ge=100)
    renewals: int = 0                      # paid renewals since the workflow began, over every run
    line: LineView | None = None           # None: load it from the database
    vas_timers: list[VasTimer] = []
    recent_requests: list[RecentRequest] = []
    network_blocked: bool = False          # what the PCRF was last told
    network_seq: int = 0                   # numbers block/unblock occasions (task keys)
    scenario_clock: ScenarioClock | None = None  # time-skipping stack: business time = workflow.now() + offset


# --- client messages (workflow updates and signals) ---------------------------------------------

class PurchaseVas(Acting):
    """Buy a VAS for the line, charged to the card on file."""

    offering_id: str
    request_id: str = Field(min_length=1, max_length=100)


class VasPurchased(BaseModel):
    """A VAS bought and granted."""

    subscription_id: str
    offering_id: str
    request_id: str
    payment_id: str
    amount_minor: int
    currency: str
    expires_at: dt.datetime
    unblocked: bool
    replayed: bool = False
    line: LineView


class RenewNow(Acting):
    """Renew the line now (pays the next period; lifts a block)."""

    request_id: str = Field(min_length=1, max_length=100)


class Renewed(BaseModel):
    """A renewal paid and applied."""

    subscription_id: str
    period_number: int
    payment_id: str
    amount_minor: int
    currency: str
    replayed: bool = False
    line: LineView


class ChangePlan(Acting):
    """Schedule a move to another plan at the next renewal."""

    offering_id: str


class CancelPlanChange(Acting):
    """Drop the scheduled plan change."""


class TerminateLine(Acting):
    """End the line for good."""

    reason: str = Field(default="terminated by request", min_length=1, max_length=500)


class DataEvent(BaseModel):
    """Rating saw the data bundle run out (or come back); the database already says so."""

    subscription_id: str | None = None
    usage_id: str | None = None
    blocked_at: dt.datetime | None = None


class SubscriptionSnapshot(BaseModel):
    """The workflow's view of the line (query)."""

    subscription_id: str
    line: LineView | None
    next_renewal_at: dt.datetime | None
    renewals: int
    renewals_this_run: int
    vas_timers: list[VasTimer]
    network_blocked: bool
    stuck_task_ids: list[str] = []
    quarantine_until: dt.datetime | None = None


# --- activity inputs ------------------------------------------------------------------------------

class RenewalTerms(BaseModel):
    """What the next period costs and which plan it is on (pending change and due price migration applied)."""

    subscription_id: str
    customer_id: str
    period_number: int
    offering_id: str
    previous_offering_id: str
    offering_name: str
    price_id: str | None
    price_minor: int
    currency: str
    period_days: int
    migration_id: str | None = None


class ApplyRenewal(Acting):
    """Start the paid period: reset balances, pivot a plan change, lift a block."""

    terms: RenewalTerms
    kind: str
    payment_id: str
    idempotency_key: str
    period_start: dt.datetime
    as_of: dt.datetime


class BlockLine(Acting):
    """Block a line (or change why it is blocked)."""

    subscription_id: str
    reason: str
    as_of: dt.datetime
    cause: str | None = None  # what made it, for the audit row (e.g. `renewal.payment_failed`)


class VasOffer(BaseModel):
    """A VAS as sold now: its price and how it expires."""

    offering_id: str
    name: str
    price_id: str
    price_minor: int
    currency: str
    restores_data: bool
    expiry: str
    duration_seconds: int | None = None


class GrantVas(Acting):
    """Add a paid VAS to the bundle."""

    subscription_id: str
    offer: VasOffer
    request_id: str
    idempotency_key: str
    payment_id: str
    as_of: dt.datetime
    expires_at: dt.datetime


class VasGranted(BaseModel):
    """The grant, and the line after it."""

    grant_key: str
    expires_at: dt.datetime
    unblocked: bool
    line: LineView


class ExpireVas(Acting):
    """Let a timed VAS lapse."""

    subscription_id: str
    grant_key: str
    as_of: dt.datetime


class SchedulePlanChange(Acting):
    """Record a plan change (with the target's price now) to pivot at the next renewal."""

    subscription_id: str
    offering_id: str
    as_of: dt.datetime


class DropPlanChange(Acting):
    """Clear a scheduled plan change."""

    subscription_id: str
    as_of: dt.datetime


class EndLine(Acting):
    """Mark a line terminated (its pending change dropped)."""

    subscription_id: str
    reason: str
    as_of: dt.datetime
