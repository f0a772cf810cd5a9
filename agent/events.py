"""What one agent turn tells its caller while it runs, and what it comes to.

The REPL, `bss ask`, the portals and the scenario runner all drive a turn the same way:
`agent.runtime.run_turn(...)` calls `on_event` with each `AgentEvent` as it happens (tokens as they
stream, each tool call as it starts and ends, a proposal that needs a confirm, a guard's stop) and
returns a `TurnResult`. Events carry plain data (the tool's JSON result), never rendered text: each
channel renders them its own way (the REPL with the CLI's cards).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """The kinds of event a turn emits, in the order they can happen."""

    TOKEN = "token"              # text: a piece of the model's answer as it streams
    TOOL_START = "tool_start"    # operation, args: a tool call begins
    TOOL_END = "tool_end"        # operation, args, result (the API's JSON) or error {code, message, context}
    PROPOSAL = "proposal"        # operation, args: a destructive call waits for a confirm (operator profile)
    STOPPED = "stopped"          # reason: a guard ended the turn (steps, repeat, failures, budget, cap, trip-wire)
    ESCALATED = "escalated"      # category, case_id: handed to a human case
    FINAL = "final"              # text: the answer as a whole


@dataclass(frozen=True)
class AgentEvent:
    """One thing that happened in a turn."""

    kind: EventKind
    text: str = ""
    operation: str = ""          # the operation's name (`subscription.purchase_vas`), not its tool name
    args: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    error: dict[str, Any] | None = None
    reason: str = ""


@dataclass(frozen=True)
class Proposal:
    """A destructive operation the model asked for, held until the operator confirms it."""

    operation: str
    args: dict[str, Any]


@dataclass
class TurnResult:
    """What a turn came to: its answer, the calls it made, why it stopped early (if it did)."""

    session_id: str
    answer: str
    tool_calls: list[AgentEvent] = field(default_factory=list)  # the TOOL_END events, in order
    proposal: Proposal | None = None
    stopped: str = ""            # the guard's reason, empty when the model finished on its own
    escalated: str = ""          # the escalation category, when the turn opened a case
    tokens: int = 0
    cost_usd: float = 0.0
    trace_id: str | None = None
