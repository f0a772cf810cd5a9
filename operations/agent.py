"""Agent conversation operations: list, show, open and note agent sessions (`/agent-api/v1/session`).

The agent records its own turns through `agent.conversations` (a batch per turn); these operations are
how people read the conversations (`bss agent sessions`, `bss agent show SES-…`, the CSR portal), open
one to continue, and add a note to a transcript, which stays append-only.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from core.scopes import Scope
from operations.fields import CUSTOMER_ID
from operations.registry import Client, Input, operation

SESSION = "/agent-api/v1/session"
SESSION_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"  # domain.agent.SESSION_ID


class ListSessions(Input):
    """Filters of the session list."""

    customer_id: str | None = Field(default=None, pattern=CUSTOMER_ID, description="Only this customer's sessions.",
                                   json_schema_extra={"flag": "--customer"})
    profile: Literal["operator", "customer"] | None = Field(default=None, description="Only sessions of this profile.")
    limit: int = Field(default=50, ge=1, le=1000, description="At most this many sessions, newest first.")


@operation("agent.sessions", scope=Scope.AGENT_SESSION, routes=[f"GET {SESSION}"], result="list")
def sessions(client: Client, args: ListSessions) -> Any:
    """List agent sessions, newest first."""
    return client.request("GET", SESSION, params={"customerId": args.customer_id, "profile": args.profile,
                                                  "limit": args.limit})


class ShowSession(Input):
    """Which session."""

    session_id: str = Field(pattern=SESSION_ID, description="Session id (SES-…).")


@operation("agent.show", scope=Scope.AGENT_SESSION, routes=[f"GET {SESSION}/{{session_id}}"],
           arguments=("session_id",))
def show(client: Client, args: ShowSession) -> Any:
    """Show an agent session with its transcript and the transcript's SHA-256."""
    return client.request("GET", f"{SESSION}/{args.session_id}")


class OpenSession(Input):
    """A session to open."""

    profile: Literal["operator", "customer"] = Field(default="operator", description="operator | customer.")
    customer_id: str | None = Field(default=None, pattern=CUSTOMER_ID,
                                   description="The customer (required for the customer profile; the focus otherwise).",
                                   json_schema_extra={"flag": "--customer"})


@operation("agent.open", scope=Scope.AGENT_SESSION, routes=[f"POST {SESSION}"])
def open_(client: Client, args: OpenSession) -> Any:
    """Open an agent session for a later turn to continue."""
    body = {"profile": args.profile, "customerId": args.customer_id}
    return client.request("POST", SESSION, json={k: v for k, v in body.items() if v is not None})


class NoteSession(Input):
    """A note added to a transcript."""

    session_id: str = Field(pattern=SESSION_ID, description="Session id (SES-…).")
    text: str = Field(min_length=1, max_length=4000, description="The note (kept as a system message).")


@operation("agent.note", scope=Scope.AGENT_SESSION, routes=[f"POST {SESSION}/{{session_id}}/entries"],
           arguments=("session_id", "text"))
def note(client: Client, args: NoteSession) -> Any:
    """Add a note to an agent session's transcript (transcripts are append-only)."""
    return client.request("POST", f"{SESSION}/{args.session_id}/entries",
                          json={"entries": [{"type": "message", "role": "system", "text": args.text}]})
