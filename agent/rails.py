"""The hooks a turn calls for its safety rails (trip-wire, caps, escalation), and a no-op default.

`agent.runtime.run_turn` calls, in this order:

- `before_turn(ctx, message)`: before the model sees the message. Return a `Stop` to end the turn there
  (a cap that is exhausted, an escalation that opened a case) or None to go on.
- `before_tool(ctx, operation, args)`: before each tool call runs (proposals included). Return a `Stop`
  to end the turn, a dict (e.g. `{"error": {"code", "message", "context"}}`) given to the model as the
  tool's result instead of running it, or None to run it.
- `after_tool(ctx, operation, args, result)`: after each tool call, with its JSON result or its
  `{"error": …}` dict. Return the result to hand the model (the same object, or a refusal dict in its
  place), or a `Stop` to end the turn (the model never sees the result).
- `after_answer(ctx, text)`: the model's final answer before it is shown. Return the text to show (the
  same or another), or a `Stop`. For the customer profile the answer's tokens are held back until this
  passed, so a refused answer is never streamed.
- `after_turn(ctx, result)`: once the turn's `TurnResult` is complete (tokens, cost, stop reason), for
  bookkeeping (cost caps, append-only transcripts). Its return value is ignored.

Rails come from the modules `agent.tripwire`, `agent.caps` and `agent.escalation` when they exist: each
may define `rails() -> Rails` (called once per process); `load_rails()` chains the ones found, in that
order, after nothing else. A test passes its own with `run_turn(..., rails=…)`.

Every API call a turn makes carries `X-BSS-Session: <session id>` beside the agent token, the actor
(`X-BSS-Actor`) and, for the customer profile, `X-BSS-On-Behalf-Of`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from agent.events import AgentEvent, TurnResult

SESSION_HEADER = "X-BSS-Session"
RAIL_MODULES = ("agent.tripwire", "agent.caps", "agent.escalation")


@dataclass
class TurnContext:
    """What a rail knows about the turn it is asked about."""

    session_id: str
    profile: str                 # "operator" or "customer"
    customer_id: str | None      # the bound customer (customer profile) or the operator's focus
    actor: str
    message: str                 # the user's message of this turn ("" for a bare confirm)
    history: list[BaseMessage] = field(default_factory=list)  # the session's messages before this turn
    events: list[AgentEvent] = field(default_factory=list)    # the events of this turn so far
    extra: dict[str, Any] = field(default_factory=dict)       # free room for a rail's own per-turn state


@dataclass(frozen=True)
class Stop:
    """A rail ends the turn: why (shown and emitted as STOPPED), and what the turn answers."""

    reason: str                  # e.g. "trip-wire: the result named another customer's MSISDN; refused and audited"
    answer: str = ""             # the turn's answer; the reason when empty
    escalated: str = ""          # an escalation's category (fraud, billing_dispute, …): emits ESCALATED
    case_id: str = ""            # the case an escalation opened


class Rails:
    """The default: every hook lets the turn go on unchanged. Subclass and override what you need."""

    def before_turn(self, ctx: TurnContext, message: str) -> Stop | None:
        """Before the model sees the message: a `Stop` ends the turn."""
        return None

    def before_tool(self, ctx: TurnContext, operation: str, args: dict[str, Any]) -> Stop | dict[str, Any] | None:
        """Before a tool call runs: a `Stop` ends the turn, a dict replaces the call's result."""
        return None

    def after_tool(self, ctx: TurnContext, operation: str, args: dict[str, Any], result: Any) -> Any:
        """After a tool call: the result the model gets (or a refusal dict), or a `Stop`."""
        return result

    def after_answer(self, ctx: TurnContext, text: str) -> str | Stop:
        """The final answer to show, or a `Stop`."""
        return text

    def after_turn(self, ctx: TurnContext, result: TurnResult) -> None:
        """The turn is over (its result is complete)."""


class ChainedRails(Rails):
    """Several rails in order: the first `Stop` wins; results and answers pass through each in turn."""

    def __init__(self, rails: list[Rails]) -> None:
        self.rails = rails

    def before_turn(self, ctx: TurnContext, message: str) -> Stop | None:
        for rail in self.rails:
            if (stop := rail.before_turn(ctx, message)) is not None:
                return stop
        return None

    def before_tool(self, ctx: TurnContext, operation: str, args: dict[str, Any]) -> Stop | dict[str, Any] | None:
        for rail in self.rails:
            if (verdict := rail.before_tool(ctx, operation, args)) is not None:
                return verdict
        return None

    def after_tool(self, ctx: TurnContext, operation: str, args: dict[str, Any], result: Any) -> Any:
        for rail in self.rails:
            result = rail.after_tool(ctx, operation, args, result)
            if isinstance(result, Stop):
                return result
        return result

    def after_answer(self, ctx: TurnContext, text: str) -> str | Stop:
        for rail in self.rails:
            answer = rail.after_answer(ctx, text)
            if isinstance(answer, Stop):
                return answer
            text = answer
        return text

    def after_turn(self, ctx: TurnContext, result: TurnResult) -> None:
        for rail in self.rails:
            rail.after_turn(ctx, result)


_LOADED: Rails | None = None


def load_rails() -> Rails:
    """The rails of this process: those of `RAIL_MODULES` that exist, chained (no-op when none do)."""
    global _LOADED
    if _LOADED is None:
        found: list[Rails] = []
        for name in RAIL_MODULES:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:  # the module exists but something it imports does not: say so
                    raise
                continue
            factory = getattr(module, "rails", None)
            if factory is not None:
                found.append(factory())
        _LOADED = ChainedRails(found) if found else Rails()
    return _LOADED
