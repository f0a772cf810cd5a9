"""Where a conversation's messages and its pending proposal live between turns.

The interface is small on purpose, so the PostgreSQL store (conversations in their own schema) can
take the place of the in-process one: `store()` returns the module `agent.session_store`'s
`store()` when that module exists, else one `MemoryStore` per process. `use_store(s)` sets it.
Messages are LangChain messages, appended in order and never rewritten.
"""

from __future__ import annotations

import importlib
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from agent.events import Proposal


@dataclass(frozen=True)
class Pending:
    """A proposed tool call waiting for a confirm: the proposal and the tool call it came from."""

    proposal: Proposal
    tool_call_id: str


@dataclass
class Session:
    """One conversation: who it is for and what was said."""

    id: str
    profile: str
    customer_id: str | None
    actor: str
    messages: list[BaseMessage] = field(default_factory=list)
    pending: Pending | None = None


class SessionStore(Protocol):
    """What the runtime needs of a session store."""

    def get(self, session_id: str) -> Session | None:
        """The session, or None when there is none by that id."""
        ...

    def create(self, *, profile: str, customer_id: str | None, actor: str, session_id: str | None = None) -> Session:
        """A new session (a fresh id unless one is given)."""
        ...

    def append(self, session_id: str, messages: list[BaseMessage]) -> None:
        """Add messages at the end of the session's history."""
        ...

    def set_pending(self, session_id: str, pending: Pending | None) -> None:
        """Hold (or clear, with None) the session's proposal."""
        ...


def new_session_id() -> str:
    """A session id: `SES-` and 12 hex digits."""
    return f"SES-{uuid.uuid4().hex[:12]}"


class MemoryStore:
    """Sessions in this process's memory (the REPL's and the tests' default until PostgreSQL holds them)."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    def get(self, session_id: str) -> Session | None:
        session = self._sessions.get(session_id)
        if session is None:
            return None
        return Session(id=session.id, profile=session.profile, customer_id=session.customer_id, actor=session.actor,
                       messages=list(session.messages), pending=session.pending)

    def create(self, *, profile: str, customer_id: str | None, actor: str, session_id: str | None = None) -> Session:
        session = Session(id=session_id or new_session_id(), profile=profile, customer_id=customer_id, actor=actor)
        self._sessions[session.id] = session
        return self.get(session.id)  # type: ignore[return-value]

    def append(self, session_id: str, messages: list[BaseMessage]) -> None:
        self._sessions[session_id].messages.extend(messages)

    def set_pending(self, session_id: str, pending: Pending | None) -> None:
        self._sessions[session_id].pending = pending


_STORE: SessionStore | None = None


def store() -> SessionStore:
    """The session store of this process."""
    global _STORE
    if _STORE is None:
        try:
            module = importlib.import_module("agent.session_store")
        except ModuleNotFoundError as exc:
            if exc.name != "agent.session_store":
                raise
            _STORE = MemoryStore()
        else:
            _STORE = module.store()
    return _STORE


def use_store(session_store: SessionStore | None) -> None:
    """Make `session_store` the process's store (None: find it again on next use)."""
    global _STORE
    _STORE = session_store
