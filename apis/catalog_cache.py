"""Rendered catalog answers, reused until the catalog or business time says they changed.

The catalog is reference data: every channel reads it on every page, an operator changes it a few
times a month. Each API process keeps the rendered answers (body bytes and count headers) of recent
productOffering reads, and serves one again only while all of these hold:

* the catalog has not changed since it was rendered. Every catalog table NOTIFYs at commit
  (migration 0015), whoever writes; this process LISTENs and bumps its generation on each NOTIFY,
  and a write through this process bumps it at once too, so a client always reads its own writes.
  Another API process sees a change when the NOTIFY reaches it, milliseconds after the commit;
* the listener is attached to the database the process uses now. While it is not (starting, a lost
  connection, tests switching databases) a NOTIFY could be missed, so nothing is served from here;
* business time is in [rendered at, next window edge). `sellableNow` and `activePrice` change only
  when an offering's or a price's validity window opens or closes, so an answer holds until the
  earliest such edge after it was rendered, and never for an earlier time (scenario and test
  clocks can move back).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

import asyncpg
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import asyncpg_dsn, get_engine
from core.pg_listen import ChannelListener
from domain.catalog import CHANGED_CHANNEL

log = logging.getLogger("bss.catalog_cache")


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """One rendered answer and the conditions under which it still holds."""

    body: bytes
    headers: dict[str, str]
    generation: int
    rendered_at: dt.datetime
    valid_until: dt.datetime | None  # None: no window edge ahead

    def holds_at(self, now: dt.datetime) -> bool:
        """True while `now` is inside the span in which nothing time-dependent in the body changes."""
        return self.rendered_at <= now and (self.valid_until is None or now < self.valid_until)


class CatalogCache:
    """Per-process cache of rendered catalog answers, invalidated by PostgreSQL NOTIFY."""

    RETRY_S = 1.0  # after a failed attach, serve uncached for this long before trying again

    def __init__(self, max_entries: int = 256) -> None:
        self._entries: OrderedDict[str, CachedAnswer] = OrderedDict()
        self._max_entries = max_entries
        self._generation = 0
        self._engine: AsyncEngine | None = None  # the engine whose database the listener follows
        self._listener: ChannelListener | None = None
        self._attaching: asyncio.Task | None = None
        self._next_attempt = 0.0

    def generation(self) -> int | None:
        """The generation an answer rendered now belongs to; None when answers must not be kept."""
        if self._listener is None or not self._listener.attached or self._engine is not get_engine():
            self._follow(get_engine())
            return None
        return self._generation

    def get(self, key: str, now: dt.datetime) -> CachedAnswer | None:
        """The answer kept for `key` if it still holds at `now`."""
        generation = self.generation()
        answer = self._entries.get(key) if generation is not None else None
        if answer is None or answer.generation != generation or not answer.holds_at(now):
            return None
        self._entries.move_to_end(key)
        return answer

    def put(self, key: str, answer: CachedAnswer) -> None:
        """Keep `answer` unless the catalog changed while it was being rendered."""
        if answer.generation != self.generation():
            return
        self._entries[key] = answer
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def invalidate(self) -> None:
        """Forget every answer (the catalog changed, or a change may have been missed)."""
        self._generation += 1
        self._entries.clear()

    async def close(self) -> None:
        """Stop listening (process shutdown)."""
        if self._attaching is not None:
            self._attaching.cancel()
            await asyncio.gather(self._attaching, return_exceptions=True)
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None

    # --- following the database in use -------------------------------------------------------

    def _follow(self, engine: AsyncEngine) -> None:
        """Start attaching to `engine`'s database in the background (one attempt at a time)."""
        if self._attaching is not None or time.monotonic() < self._next_attempt:
            return
        self._attaching = asyncio.get_running_loop().create_task(self._attach(engine), name="bss-catalog-listen")

    async def _attach(self, engine: AsyncEngine) -> None:
        old, self._listener = self._listener, None
        try:
            if old is not None:
                await old.stop()
            self.invalidate()
            listener = ChannelListener(asyncpg_dsn(engine), CHANGED_CHANNEL, lambda _payload: self.invalidate(),
                                       on_detach=self.invalidate)
            await listener.connect()
            self._listener, self._engine = listener, engine
            self.invalidate()  # anything rendered while attaching predates the LISTEN
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("catalog cache: cannot listen for catalog changes (%s); serving uncached", exc)
            self._next_attempt = time.monotonic() + self.RETRY_S
        finally:
            self._attaching = None


def catalog_changed(request: Request) -> None:
    """This process changed the catalog: drop its cached answers now, not when the NOTIFY arrives."""
    request.app.state.catalog_cache.invalidate()
