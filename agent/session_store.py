"""The runtime's session store (found by `agent.sessions.store()`): conversations in PostgreSQL (agent.conversations)."""

from __future__ import annotations

from agent.conversations import PgStore


def store() -> PgStore:
    """The PostgreSQL-backed store of this process."""
    return PgStore()
