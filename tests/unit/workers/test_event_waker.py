"""The waker's list of hubs: one created while the list is being read is woken all the same.

The Temporal client, the database read and the signal are stood in for (this is the waker's own
bookkeeping, in one event loop); the path through PostgreSQL and Temporal is tests/api/test_event_hub.py.
"""

from __future__ import annotations

import asyncio

from domain import events as ev
from workers import event_waker
from workers.event_waker import EventWaker

CUSTOMERS = ev.kind_of("customer.created").api


async def test_a_hub_created_while_the_list_is_read_is_woken_by_the_next_event(monkeypatch):
    before = [("hub-old", ev.HUB, CUSTOMERS)]
    after = [*before, ("hub-new", ev.HUB, CUSTOMERS)]
    reads: list[int] = []
    slow = asyncio.Event()

    async def active_subscriptions(kinds: tuple[str, ...]) -> list[tuple[str, str, str]]:
        reads.append(len(reads))
        if len(reads) == 1:
            await slow.wait()  # the first read took its snapshot before the new hub committed
            return before
        return after

    woken: list[str] = []

    async def wake(client: object, sub: str) -> None:
        woken.append(sub)

    monkeypatch.setattr(event_waker, "active_subscriptions", active_subscriptions)
    monkeypatch.setattr(event_waker, "wake", wake)
    monkeypatch.setattr(event_waker, "ring", lambda sub: False)  # no activity lingers in this process
    monkeypatch.setattr(event_waker, "lingering", list)
    waker = EventWaker(client=None, dsn="postgresql://unused")  # type: ignore[arg-type]

    waker.poke()  # attached: read the list
    await asyncio.sleep(0)
    waker.poke("event.hub.created")  # the new hub's NOTIFY, while that read is still on its way
    slow.set()
    await waker._round
    woken.clear()
    waker.poke("customer.created")  # the first event the new hub must hear
    await waker._round
    assert sorted(woken) == ["hub-new", "hub-old"]
    assert len(reads) == 2  # the stale list was not kept; one fresh read since, then reused
