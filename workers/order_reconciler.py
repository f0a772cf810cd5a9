"""Resume orders nobody came back for: accepted by the API, never run on Temporal.

The API writes an order row, then starts its workflow (an `add`) or sends its line's workflow an
update (a `modify`/`delete`). When Temporal cannot be reached in between, the POST answers 503 and
the order stays `acknowledged` (or `inProgress`, for a change that was being sent) for the client
to retry with its externalId. A client that never retries would strand it, with its customer told
nothing. So a system worker looks, every few seconds, for such orders it has seen unfinished for
GRACE of its own wall time (not the stack clock: `bss clock advance` must not make a fresh order
look old) and runs them exactly as a retried POST would (apis/order_runs.py): the start and the
update are idempotent by id, so a sweep racing the API's own attempt joins it instead of running
the order twice. Orders are retried at most once per RETRY_AFTER while Temporal stays away.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import and_, or_, select
from temporalio.client import Client
from temporalio.service import RPCError

from apis.order_runs import run_change, start_order_workflow
from core import context
from core.context import RequestContext
from core.db import get_engine
from core.errors import ExternalServiceError
from core.settings import get_settings
from core.temporal import scenario_skipper
from domain.ordering import OrderAction, OrderState, product_order
from workers.sweeper import Sweeper

log = logging.getLogger("bss.worker.orders")

# Longer than any POST holds an order before its workflow owns it (a start is retried for 1.3 s, a
# change's update waits for its line's workflow up to 35 s while that continues as new).
GRACE = timedelta(seconds=60)
INTERVAL = timedelta(seconds=5)
RETRY_AFTER = timedelta(minutes=1)
MAX_BACKOFF = timedelta(seconds=30)
BATCH = 100

PO = product_order
UNFINISHED = select(PO).where(or_(
    and_(PO.c.action == OrderAction.ADD.value, PO.c.state == OrderState.ACKNOWLEDGED.value),
    and_(PO.c.action != OrderAction.ADD.value,
         PO.c.state.in_([OrderState.ACKNOWLEDGED.value, OrderState.IN_PROGRESS.value])),
)).order_by(PO.c.order_date, PO.c.id).limit(BATCH)
SWEEPER = RequestContext(actor="system", channel="system:order-reconciler", service_identity="system")


class OrderReconciler(Sweeper):
    """The background sweep of unstarted orders of one system worker (`start`, `stop`)."""

    name = "order reconciliation"

    def __init__(self, client: Client, interval: timedelta = INTERVAL, grace: timedelta = GRACE,
                 retry_after: timedelta = RETRY_AFTER) -> None:
        super().__init__(interval, MAX_BACKOFF)
        # On a time-skipping stack orders start as the API starts them: with auto-skip off (DESIGN.md §6).
        self.client = scenario_skipper(client).client if get_settings().time_skipping else client
        self.grace = grace.total_seconds()
        self.retry_after = retry_after.total_seconds()
        self._seen: dict[str, float] = {}
        self._tried: dict[str, float] = {}

    async def sweep(self) -> list[str]:
        """Run every order unfinished for longer than the grace; return the ids it ran."""
        async with get_engine().connect() as conn:
            rows = [dict(r._mapping) for r in await conn.execute(UNFINISHED)]
        now = time.monotonic()
        # Remember only what is still unfinished: an order that ends drops out of both maps.
        self._seen = {r["id"]: self._seen.get(r["id"], now) for r in rows}
        self._tried = {k: at for k, at in self._tried.items() if k in self._seen}
        due = [r for r in rows if now - self._seen[r["id"]] >= self.grace
               and now - self._tried.get(r["id"], -self.retry_after) >= self.retry_after]
        ran: list[str] = []
        with context.acting_as(SWEEPER):
            for row in due:
                try:
                    await self._resume(row)
                except (RPCError, ExternalServiceError) as exc:  # Temporal still away: the next sweep tries again
                    log.warning("order %s not resumed yet: %s", row["id"], exc)
                    break
                self._tried[row["id"]] = now
                ran.append(row["id"])
                log.warning("resumed order %s (%s), left %s by its caller", row["id"], row["action"], row["state"])
        return ran

    async def _resume(self, row: dict) -> None:
        if row["action"] == OrderAction.ADD:
            await start_order_workflow(self.client, row)  # joins a run that exists; the workflow owns the row
        else:
            await run_change(self.client, row)
