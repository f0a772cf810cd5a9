"""A background sweep of one worker process: run `sweep` every interval, back off while it fails."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from core.outage import is_outage

log = logging.getLogger("bss.worker.sweeper")


class Sweeper:
    """Subclasses name themselves and implement `sweep`; `start` and `stop` run it beside the worker."""

    name = "sweep"

    def __init__(self, interval: timedelta, max_backoff: timedelta) -> None:
        self.interval = interval
        self.max_backoff = max_backoff
        self._task: asyncio.Task | None = None

    async def sweep(self) -> list[str]:
        """One pass; returns the ids it acted on."""
        raise NotImplementedError

    def start(self) -> None:
        """Sweep every `interval` until `stop`."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """End the sweep."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        wait = self.interval.total_seconds()
        while True:
            try:
                await self.sweep()
                wait = self.interval.total_seconds()
            except Exception as exc:  # the database or Temporal away: a later sweep tries again
                if is_outage(exc):
                    # One line per try, no trace: sweeping resumes by itself once the database is back.
                    log.warning("%s waits for the database: %s: %s", self.name, exc.__class__.__name__, exc)
                else:
                    log.warning("%s failed", self.name, exc_info=True)
                # After failed sweeps the wait doubles up to max_backoff; a good sweep brings it back.
                wait = min(wait * 2, max(self.max_backoff.total_seconds(), self.interval.total_seconds()))
            await asyncio.sleep(wait)
