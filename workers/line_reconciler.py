"""Make up lost block/unblock signals: the database says how a line should stand on the network.

Rating blocks a line in the usage transaction, then signals the line's workflow so its network lane
pushes PCRF_BLOCK. That signal is sent after the commit and may be lost: Temporal slow past the
signal timeout, the API killed between commit and signal. The row stays right, the network does
not. So a worker compares, every couple of seconds, each line's state with the last PCRF task its
workflow made and signals the lines that disagree (`data_exhausted` for a blocked line whose last
task is not a block, `data_restored` for an active one whose last task is). The signal only makes
the workflow reload the line; its lane decides, so a signal too many changes nothing.

Each worker process sweeps (a second one only doubles a harmless signal); a line is signalled again at
most once a minute by a sweeper, so a lane held by a stuck task is not flooded.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from temporalio.client import Client
from temporalio.service import RPCError

from core import clock
from core.db import raw_connection
from workers.sweeper import Sweeper

log = logging.getLogger("bss.worker.reconciler")

# A line whose state changed this recently is left to its own signal, still on its way.
GRACE = timedelta(seconds=2)
INTERVAL = timedelta(seconds=1)
RESIGNAL_AFTER = timedelta(minutes=1)
# After failed sweeps (an outage) the interval doubles up to this, and is back to INTERVAL after a good one.
MAX_BACKOFF = timedelta(seconds=10)

DISAGREEING = """
WITH last_pcrf AS (
    SELECT DISTINCT ON (t.subscription_id) t.subscription_id, t.task_type
    FROM provisioning.task t
    WHERE t.task_type IN ('PCRF_BLOCK', 'PCRF_UNBLOCK') AND t.subscription_id IS NOT NULL
    ORDER BY t.subscription_id, t.created_at DESC, t.id DESC)
SELECT s.id, s.state
FROM subscription.subscription s LEFT JOIN last_pcrf p ON p.subscription_id = s.id
WHERE s.updated_at < $1
  AND ((s.state = 'blocked' AND p.task_type IS DISTINCT FROM 'PCRF_BLOCK')
    OR (s.state = 'active' AND p.task_type = 'PCRF_BLOCK'))
"""


class LineReconciler(Sweeper):
    """The background sweep of one worker process (`start`, `stop`)."""

    name = "line reconciliation"

    def __init__(self, client: Client, interval: timedelta = INTERVAL, grace: timedelta = GRACE) -> None:
        super().__init__(interval, MAX_BACKOFF)
        self.client = client
        self.grace = grace
        self._signalled: dict[tuple[str, str], datetime] = {}

    async def sweep(self) -> list[str]:
        """Signal every line whose network state disagrees with the database; return their ids."""
        now = clock.now()
        async with raw_connection() as conn:
            rows = await conn.fetch(DISAGREEING, now - self.grace)
        # Remember only what still disagrees, per line and direction: a line that blocks again later, or
        # comes back, is signalled at once.
        never = datetime.min.replace(tzinfo=now.tzinfo)
        disagreeing = {(r["id"], r["state"]) for r in rows}
        self._signalled = {key: at for key, at in self._signalled.items() if key in disagreeing}
        due = [r for r in rows if now - self._signalled.get((r["id"], r["state"]), never) >= RESIGNAL_AFTER]
        for row in due:
            signal = "data_exhausted" if row["state"] == "blocked" else "data_restored"
            try:
                await self.client.get_workflow_handle(f"subscription-{row['id']}").signal(
                    signal, {"subscription_id": row["id"]})
            except RPCError as exc:  # no workflow (yet) for the line: it reconciles on start
                log.info("reconciling %s: %s not delivered (%s)", row["id"], signal, exc)
                continue
            self._signalled[(row["id"], row["state"])] = now
            log.info("reconciled %s: %s", row["id"], signal)
        return [r["id"] for r in due]
