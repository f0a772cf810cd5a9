"""Per-customer caps of the customer profile: requests per hour and cost per month, counted in PostgreSQL.

Before a turn the customer's usage is read from the conversation store (`GET /agent-api/v1/customer/{id}/
usage`: the user messages of its customer-profile sessions in the last hour, the cost of their turns this
calendar month); at the cap the turn stops before the model runs (`agent.cap.requests_per_hour`,
`agent.cap.cost_per_month`). When the usage cannot be read the turn is refused (`agent.cap.unreadable`):
the caps fail closed. After every turn (operator or customer profile; a browse session lives in memory) a
`turn` entry records its tokens, cost, stop reason and escalation, which is what the monthly cost sums.
Defaults: `BSS_AGENT_CAP_REQUESTS_PER_HOUR`, `BSS_AGENT_CAP_COST_PER_MONTH_USD`. A message the escalation
rail hands to a person is never capped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.rails import Rails, Stop, TurnContext
from agent.rails_impl import FAILURES, customer_turn, log, note

if TYPE_CHECKING:
    from agent.events import TurnResult

REQUESTS = "agent.cap.requests_per_hour"
COST = "agent.cap.cost_per_month"
UNREADABLE = "agent.cap.unreadable"
EXCEEDED = "agent.cap.exceeded"  # the audit event of a turn a cap refused
UNAVAILABLE = "I can't take more requests here right now. Please try again later, or contact us for help."


def limits() -> tuple[int, float]:
    """(requests per hour, USD per month) from the settings."""
    from core.settings import get_settings

    settings = get_settings()
    return settings.agent_cap_requests_per_hour, settings.agent_cap_cost_per_month_usd


class Caps(Rails):
    """The caps rail (see the module's docstring)."""

    def before_turn(self, ctx: TurnContext, message: str) -> Stop | None:
        """Refuse the turn at a cap, or when the count cannot be read."""
        if not customer_turn(ctx):
            return None
        from agent import conversations
        from agent.escalation import category_of

        if category_of(message) is not None:
            return None  # a hand-over to a person is never capped: it costs no model call (agent.escalation)

        per_hour, per_month = limits()
        try:
            used = conversations.usage(ctx.customer_id or "", ctx.session_id, ctx.customer_id)
            requests, cost = int(used["requestsLastHour"]), float(used["costThisMonthUsd"])
        except FAILURES as exc:  # fail closed: a count that cannot be read is not zero
            return Stop(reason=f"cap: the customer's usage could not be read, so the turn is refused ({UNREADABLE}: "
                               f"{str(exc)[:120]})", answer=UNAVAILABLE)
        if requests >= per_hour:
            return self._refuse(ctx, REQUESTS, f"{requests} requests in the last hour (cap {per_hour})",
                                {"requests": requests, "cap": per_hour})
        if cost >= per_month:
            return self._refuse(ctx, COST, f"USD {cost:.4f} spent this month (cap USD {per_month:.2f})",
                                {"costUsd": cost, "cap": per_month})
        return None

    def _refuse(self, ctx: TurnContext, code: str, why: str, payload: dict) -> Stop:
        try:
            note(ctx, f"cap: {why}; the turn is refused ({code})", EXCEEDED, {"code": code, **payload})
        except FAILURES:
            log.exception("caps: the refusal's audit note could not be written")
        return Stop(reason=f"cap: {why} ({code})", answer=UNAVAILABLE)

    def after_turn(self, ctx: TurnContext, result: TurnResult) -> None:
        """Record the turn's tokens and cost (what the monthly cap sums) and how it ended."""
        from agent import conversations

        if ctx.profile == "browse":  # a visitor's catalog chat lives in memory only (agent.session_store)
            return

        entry = {"type": "turn", "tokens": int(result.tokens), "costUsd": max(float(result.cost_usd), 0.0),
                 "stopped": result.stopped or None, "escalated": result.escalated or None,
                 "traceId": result.trace_id}
        try:
            conversations.append_entries(ctx.session_id, [entry], profile=ctx.profile, customer_id=ctx.customer_id,
                                         actor=ctx.actor)
        except FAILURES:
            log.exception("caps: the turn's cost could not be recorded (session %s)", ctx.session_id)


def rails() -> Rails:
    """The caps rail of this process (found by `agent.rails.load_rails`)."""
    return Caps()
