"""What the agent's rails share: the refusal a tool result is replaced by, and the notes they write.

A rail's note is a `system` message of the transcript, written at once (not at the end of the turn) and
carrying the audit event it stands for (`agent.tripwire.*`, `agent.cap.exceeded`, `agent.escalated`),
so the refusal is on record even when the turn later fails. The rails themselves live in
`agent.tripwire`, `agent.caps` and `agent.escalation`, each found by `agent.rails.load_rails()`.
"""

from __future__ import annotations

import logging
from typing import Any

from agent import conversations
from agent.rails import TurnContext
from core.api_error import ApiError

log = logging.getLogger("bss.agent.rails")
# What a rail's API call can fail with: a refusal or the API away (ApiError, 503 api.unreachable), an answer
# of an unexpected shape. A rail that needs the answer fails closed on these.
FAILURES = (ApiError, OSError, KeyError, TypeError, ValueError)


def refusal(code: str, message: str, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """A tool result replaced by a refusal: the model sees `{"error": {code, message, context}}`."""
    return {"error": {"code": code, "message": message, "context": context or {}}}


def note(ctx: TurnContext, text: str, event: str, payload: dict[str, Any]) -> int | None:
    """Write a rail's note (and its audit event) to the session's transcript; its position, None if it failed."""
    entry = {"type": "message", "role": "system", "text": text, "event": event, "eventPayload": payload}
    written = conversations.append_entries(ctx.session_id, [entry], profile=ctx.profile,
                                           customer_id=ctx.customer_id, actor=ctx.actor)
    return written["positions"][0]


def customer_turn(ctx: TurnContext) -> bool:
    """True for a turn of the customer profile (bound to a customer)."""
    return ctx.profile == "customer" and bool(ctx.customer_id)
