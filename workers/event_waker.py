"""The waker: LISTEN `domain_event` and tell every active subscription's dispatcher there is news.

`audit.domain_event` NOTIFYs `domain_event` once per writing transaction, at commit (migration 0027).
Each notification becomes one signal-with-start of `events_available` to every active dispatcher,
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

from activities.event_delivery import active_subscriptions
from core.pg_listen import ChannelListener
from domain import events as ev
from workflows.event_dispatch import wake

log = logging.getLogger("bss.events")


class EventWaker:
    """Follow the audit log's NOTIFYs and wake the dispatchers of `kinds` (hubs and the notifier)."""

    def __init__(self, client: Client, dsn: str, kinds: tuple[str, ...] = (ev.HUB, ev.NOTIFIER)) -> None:
        self._client, self._kinds = client, kinds
        self._listener = ChannelListener(dsn, ev.CHANNEL, lambda _payload: self.poke(),
                                         on_attach=self._attached)
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

    def poke(self) -> None:
        """Ask for a round of signals (coalesced with one already running)."""
        self._dirty = True
        if self._round is None or self._round.done():
            self._round = asyncio.create_task(self._signal_all(), name="bss-event-waker")

    async def _attached(self, _conn: object) -> None:
        self.poke()

    async def _signal_all(self) -> None:
        while self._dirty:
            self._dirty = False
            self.rounds += 1
            try:
                ids = await active_subscriptions(kinds=self._kinds)
                results = await asyncio.gather(*(wake(self._client, i) for i in ids), return_exceptions=True)
            except Exception as exc:  # noqa: BLE001 - database or Temporal away: the next NOTIFY retries
                log.warning("event waker: %s", exc)
                continue
            for sub, result in zip(ids, results, strict=True):
                if isinstance(result, BaseException):
                    log.warning("event waker: dispatcher of %s: %s", sub, result)
