"""A PostgreSQL LISTEN that survives restarts: connect, listen, load, and start over when the link drops.

A process follows shared state (the stack clock offset, the catalog's version) by loading it once
and applying each NOTIFY after that. The load happens after LISTEN, so a change committed in
between arrives as a NOTIFY and is never lost. While the connection is down `attached` is False
and the follower must not trust what it holds (a NOTIFY may have been missed); on reconnection
the load runs again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg

log = logging.getLogger("bss.listen")

OnAttach = Callable[[asyncpg.Connection], Awaitable[None]]
OnNotify = Callable[[str], None]


class ChannelListener:
    """LISTEN on one channel with its own connection; `on_attach` loads the state, `on_notify` applies a change."""

    RETRY_S = 0.1  # the first wait after a failed attach; it doubles up to MAX_RETRY_S while the database is away
    MAX_RETRY_S = 2.0

    def __init__(self, dsn: str, channel: str, on_notify: OnNotify, on_attach: OnAttach | None = None,
                 on_detach: Callable[[], None] | None = None) -> None:
        self._dsn, self._channel = dsn, channel
        self._on_notify, self._on_attach, self._on_detach = on_notify, on_attach, on_detach
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.attached = False

    async def connect(self) -> None:
        """Attach once (LISTEN, then `on_attach`); raise if the database does not answer. No reconnection."""
        try:
            await self._listen()
        except BaseException:
            await self._close()
            raise

    async def start(self) -> None:
        """Listen from now on, reconnecting when the link drops; return once attached (retrying until then)."""
        await self._attach()
        self._task = asyncio.create_task(self._reattach_when_lost(), name=f"bss-listen-{self._channel}")

    async def stop(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._close()

    async def _attach(self) -> None:
        # A stack process may start before PostgreSQL or the migrations, and PostgreSQL may restart
        # under it: retry until both are there. InterfaceError is a connection closed mid-attach.
        wait = self.RETRY_S
        while True:
            try:
                await self.connect()
                return
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.debug("%s: waiting for the database: %s", self._channel, exc)
                await asyncio.sleep(wait)
                wait = min(wait * 2, self.MAX_RETRY_S)

    async def _listen(self) -> None:
        self._lost.clear()
        self._conn = await asyncpg.connect(self._dsn)
        self._conn.add_termination_listener(self._detach)
        await self._conn.add_listener(self._channel, self._notified)
        if self._on_attach is not None:
            await self._on_attach(self._conn)
        self.attached = True

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._on_notify(payload)

    def _detach(self, conn: asyncpg.Connection) -> None:
        if conn is not self._conn:
            return  # a connection we closed ourselves (`_close` lets go of it first)
        self.attached = False
        if self._on_detach is not None:
            self._on_detach()
        self._lost.set()

    async def _reattach_when_lost(self) -> None:
        while True:
            await self._lost.wait()
            log.warning("%s: lost the listening connection, reconnecting", self._channel)
            await self._close()
            await self._attach()

    async def _close(self) -> None:
        self.attached = False
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                await conn.close(timeout=2)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                conn.terminate()
