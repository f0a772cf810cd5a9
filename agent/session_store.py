"""The runtime's session store (found by `agent.sessions.store()`): conversations in PostgreSQL (agent.conversations).

Browse-profile sessions (a visitor of the portal's public pages, talking about the public catalog) are
kept in this process's memory instead, under `BRW-…` ids: they name no customer and no actor the
conversation schema knows, hold nothing anyone needs to audit, and an anonymous visitor should not be
able to add rows to PostgreSQL. At most `MAX_BROWSE` of them are kept (the oldest go first).
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING

from agent.conversations import PgStore
from agent.sessions import MemoryStore

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from agent.sessions import Pending, Session

BROWSE = "browse"
BROWSE_PREFIX = "BRW-"
MAX_BROWSE = 2000


def new_browse_id() -> str:
    """A browse session's id: `BRW-` and 24 hex digits (it is the visitor's only key to the conversation)."""
    return f"{BROWSE_PREFIX}{uuid.uuid4().hex[:24]}"


class RoutingStore:
    """PostgreSQL for operator and customer sessions, bounded memory for browse sessions (`BRW-…`)."""

    def __init__(self) -> None:
        self.pg = PgStore()
        self.memory = MemoryStore()
        self._order: OrderedDict[str, None] = OrderedDict()

    @staticmethod
    def _browse(session_id: str) -> bool:
        return session_id.startswith(BROWSE_PREFIX)

    def get(self, session_id: str) -> Session | None:
        """The session with its history, or None."""
        if self._browse(session_id):
            return self.memory.get(session_id)
        return self.pg.get(session_id)

    def create(self, *, profile: str, customer_id: str | None, actor: str, session_id: str | None = None) -> Session:
        """Open a session: a browse one in memory (a `BRW-` id), any other through the conversation API."""
        if profile != BROWSE:
            if session_id and self._browse(session_id):
                raise ValueError(f"{session_id} is a browse session id; a {profile} session cannot take it")
            return self.pg.create(profile=profile, customer_id=customer_id, actor=actor, session_id=session_id)
        sid = session_id if session_id and self._browse(session_id) else new_browse_id()
        made = self.memory.create(profile=profile, customer_id=None, actor=actor, session_id=sid)
        self._order[sid] = None
        while len(self._order) > MAX_BROWSE:
            old, _ = self._order.popitem(last=False)
            self.memory._sessions.pop(old, None)  # the memory store is this class's alone
        return made

    def append(self, session_id: str, messages: list[BaseMessage]) -> None:
        """Add messages at the end of the session's history."""
        if self._browse(session_id):
            if session_id in self.memory._sessions:  # evicted meanwhile: nothing to keep
                self.memory.append(session_id, messages)
            return
        self.pg.append(session_id, messages)

    def set_pending(self, session_id: str, pending: Pending | None) -> None:
        """Hold (or clear) the session's proposal (a browse session never has one: it cannot write)."""
        if self._browse(session_id):
            if session_id in self.memory._sessions:
                self.memory.set_pending(session_id, pending)
            return
        self.pg.set_pending(session_id, pending)


def store() -> RoutingStore:
    """The store of this process: PostgreSQL, and memory for browse sessions."""
    return RoutingStore()
