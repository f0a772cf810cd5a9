"""The waker: LISTEN `domain_event` and tell every active subscription's dispatcher there is news.

`audit.domain_event` NOTIFYs `domain_event` once per writing transaction, at commit (migration 0027).
Each notification rings the dispatchers of the APIs it names whose activity lingers in this process
(activities/event_delivery.py), and sends the others a signal-with-start of `events_available`,
which also starts a dispatcher that is not running (a hub created while Temporal was away, a run
terminated by hand). Wake-ups are coalesced: at most one round of signals is in flight, and any
number of notifications arriving during it make exactly one more round. On (re)attach — the worker
starting, the database coming back — every dispatcher is signalled, since notifications may have
been missed meanwhile.
"""

from __future__ import annotations

import asyncio
import logging

from temporalio.client import Client

from activities.event_delivery import active_subscriptions, lingering, ring
from core.pg_listen import ChannelListener
from domain import events as ev
from workflows.event_dispatch import wake

log = logging.getLogger("bss.events")


class EventWaker:
    """Follow the audit log's NOTIFYs and wake the dispatchers of `kinds` (hubs and the notifier)."""

    def __init__(self, client: Client, dsn: str, kinds: tuple[str, ...] = (ev.HUB, ev.NOTIFIER)) -> None:
        self._client, self._kinds = client, kinds
        self._listener = ChannelListener(dsn, ev.CHANNEL, self.poke, on_attach=self._attached)
        self._apis: set[str] | None = set()  # the APIs with news since the last round (None: every one)
        self._subs: list[tuple[str, str, str]] | None = None  # (id, kind, api) of the active ones; None: read again
        self._subs_seen = 0  # hub changes notified so far: a list read across one of them is stale
        self._dirty = False
        self._round: asyncio.Task | None = None
        self.rounds = 0

    async def start(self) -> None:
        """Listen from now on (reconnecting when the link drops); every dispatcher is woken once attached."""
        await self._listener.start()

    async def stop(self) -> None:
        """Stop listening and let a round in flight end."""
        await self._listener.stop()
        if self._round is not None:
            self._round.cancel()
            await asyncio.gather(self._round, return_exceptions=True)

    def poke(self, payload: str = "*") -> None:
        """Ask for a round of signals for the event types in `payload` ('*': all), coalesced with one running."""
        if payload == "*" or "event.hub." in payload:  # attached again, or a hub came or went: read them again
            self._subs = None
            self._subs_seen += 1
        if payload == "*" or self._apis is None:
            self._apis = None
        else:
            # A hub hears only its own API's events; a type without a TMF event wakes no hub (the notifier always).
            self._apis |= {kind.api for kind in map(ev.kind_of, payload.split(",")) if kind is not None}
        self._dirty = True
        if self._round is None or self._round.done():
            self._round = asyncio.create_task(self._signal_all(), name="bss-event-waker")

    async def _attached(self, _conn: object) -> None:
        self.poke()

    async def _signal_all(self) -> None:
        while self._dirty:
            apis, self._apis, self._dirty = self._apis, set(), False
            self.rounds += 1
            try:
                subs = self._subs
                if subs is None:
                    seen = self._subs_seen
                    subs = await active_subscriptions(kinds=self._kinds)
                    # Kept only if no hub changed while it was read (that change's round must read again):
                    # a list read just before a hub was created, kept, would never wake that hub.
                    if seen == self._subs_seen:
                        self._subs = subs
                    # A hub deleted while its activity lingers here: rung, it sees the deletion and ends.
                    for sub in set(lingering()) - {s for s, _, _ in subs}:
                        ring(sub)
                ids = [sub for sub, kind, api in subs if kind == ev.NOTIFIER or apis is None or api in apis]
                # A dispatcher whose activity lingers in this process is rung; the others are signalled.
                ids = [sub for sub in ids if not ring(sub)]
                results = await asyncio.gather(*(wake(self._client, i) for i in ids), return_exceptions=True)
            except Exception as exc:  # noqa: BLE001 - database or Temporal away: the next NOTIFY retries
                log.warning("event waker: %s", exc)
                continue
            for sub, result in zip(ids, results, strict=True):
                if isinstance(result, BaseException):
                    log.warning("event waker: dispatcher of %s: %s", sub, result)
