"""Agent tests: the real API over HTTP, a scripted model, sessions in memory, the default (no-op) rails."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from agent.events import AgentEvent, TurnResult
from agent.rails import Rails
from agent.sessions import MemoryStore, use_store


@pytest.fixture(autouse=True)
def memory_sessions() -> Iterator[MemoryStore]:
    """Each test its own in-memory session store."""
    store = MemoryStore()
    use_store(store)
    yield store
    use_store(None)


async def turn(message: str, steps: list[Any] | None = None, *, events: list[AgentEvent] | None = None,
               **kwargs: Any) -> TurnResult:
    """Run `run_turn` in a thread (the API serves on this test's event loop) with a scripted model."""
    from agent.runtime import run_turn
    from agent.scripted import ScriptedModel

    kwargs.setdefault("rails", Rails())
    if "model" not in kwargs:
        kwargs["model"] = ScriptedModel(steps or [])
    sink = events if events is not None else []
    return await asyncio.to_thread(run_turn, message, on_event=sink.append, **kwargs)
