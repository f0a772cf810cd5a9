"""Settle charges nobody came back for: an intent still open long after every flow's window.

A charge intent stays `open` when its caller went away between asking the gateway and recording
the answer, and never returned: a manual `POST /payment` that got 503 and was not retried, a
workflow an operator terminated mid-charge. Every workflow settles its own keys well within
STALE (the longest charge window is a renewal's two hours), so an intent older than that has no
owner left: the sweep gives it up exactly as a flow would (`payment_abandon_charge`), so an
approval the gateway kept is recorded and refunded, and a key that took nothing is closed.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from activities.payment import abandon_charge
from core import clock, context
from core.context import RequestContext
from core.db import raw_connection
from workers.sweeper import Sweeper

log = logging.getLogger("bss.worker.charges")

STALE = timedelta(hours=3)
INTERVAL = timedelta(minutes=5)
BATCH = 100

OPEN_AND_STALE = """
SELECT idempotency_key, customer_id, amount_minor, currency, purpose, reference
FROM payment.charge_intent WHERE state = 'open' AND created_at < $1 ORDER BY created_at LIMIT $2
"""
SWEEPER = RequestContext(actor="system", channel="system:charge-reconciler", service_identity="system")


class ChargeReconciler(Sweeper):
    """The background sweep of open charge intents of one system worker (`start`, `stop`)."""

    name = "charge reconciliation"

    def __init__(self, interval: timedelta = INTERVAL, stale: timedelta = STALE) -> None:
        super().__init__(interval, max_backoff=interval)
        self.stale = stale

    async def sweep(self) -> list[str]:
        """Give up every intent open for longer than `stale`; return their keys."""
        async with raw_connection() as conn:
            rows = await conn.fetch(OPEN_AND_STALE, clock.now() - self.stale, BATCH)
        with context.acting_as(SWEEPER):
            for row in rows:
                key = row["idempotency_key"]
                settled = await abandon_charge(row["customer_id"], row["amount_minor"], row["currency"],
                                               row["purpose"], row["reference"], key, f"{key}:refund",
                                               "no caller came back for the charge")
                log.warning("settled a forgotten charge %s: %s", key, settled.outcome)
        return [row["idempotency_key"] for row in rows]
