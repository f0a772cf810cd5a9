"""A lost exhaustion signal is made up (issue #13, item 5).

Rating blocks the line in the database and then signals its workflow; here the signal is dropped
(a Temporal client interceptor in a second API app, as if Temporal had been too slow or the API had
died after the commit). The worker's line reconciler, or a resend of the same usage event, still
gets PCRF told within seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest_asyncio
from sqlalchemy import text
from temporalio.client import Client, Interceptor, OutboundInterceptor, SignalWorkflowInput

from apis.app import create_app
from tests.conftest import client_for
from tests.support.http import serve
from tests.workflows.subscription_helpers import (
    eventually,
    line,
    open_line,
    start_line,
    subscription_queue,  # noqa: F401 - the `sub_queue` fixture
    tasks,
)
from workers.line_reconciler import LineReconciler
from workflows.subscription import SubscriptionWorkflow

USAGE = "/tmf-api/usageManagement/v4/usage"


class DropSignals(Interceptor):
    """Loses every signal the client sends (and counts them)."""

    def __init__(self) -> None:
        self.dropped = 0

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        """Put the loss in front of the real client."""
        return _Dropping(next, self)


class _Dropping(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, owner: DropSignals) -> None:
        super().__init__(next)
        self.owner = owner

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        self.owner.dropped += 1  # never sent


@pytest_asyncio.fixture
async def lossy_api(temporal_env, seeded_db, worker) -> AsyncIterator[tuple[Any, DropSignals]]:
    """A second API whose signals to workflows are lost."""
    drops = DropSignals()
    config = temporal_env.client.config()
    client = Client(**{**config, "interceptors": [*config["interceptors"], drops]})
    async with serve(create_app(temporal_client=client)) as url, client_for(url) as api:
        yield api, drops


def exhausting(msisdn: str, event_id: str) -> dict:
    """A data event of 5 GB: all of PLAN_S's data."""
    return {"usageType": "data", "usageDate": "2025-01-01T10:00:00Z", "usageCharacteristic": [
        {"name": "msisdn", "value": msisdn}, {"name": "quantity", "value": 5 * 1024}, {"name": "unit", "value": "MB"},
        {"name": "roaming", "value": False}, {"name": "eventId", "value": event_id}]}


async def loaded(handle) -> None:
    """Wait until the workflow has read its line: from then on only a signal tells it the line changed."""
    async def ready() -> bool:
        return (await handle.query(SubscriptionWorkflow.snapshot)).line is not None
    await eventually(ready)


async def _pcrf(db, sub: str, expected: list[tuple[str, str]]) -> bool:
    return await tasks(db, sub) == expected


async def test_the_reconciler_pushes_the_block_within_seconds_of_a_lost_signal(
        seeded_api, seeded_db, temporal_env, sub_queue, lossy_api):
    api, drops = lossy_api
    sub = await open_line(seeded_api, "PLAN_S")
    await loaded(await start_line(temporal_env, sub_queue, sub))
    reconciler = LineReconciler(temporal_env.client, interval=timedelta(milliseconds=200),
                                grace=timedelta(milliseconds=500))
    reconciler.start()
    try:
        assert await reconciler.sweep() == []  # a line in step with its network is left alone
        blocked = await api.post(USAGE, json=exhausting((await line(seeded_db, sub))["msisdn"], "lost-1"))
        assert blocked.status_code == 201, blocked.text
        assert drops.dropped == 1 and (await line(seeded_db, sub))["state"] == "blocked"
        started = time.monotonic()
        await eventually(lambda: _pcrf(seeded_db, sub, [("PCRF_BLOCK", "completed")]), timeout=5)
        assert time.monotonic() - started < 5
        # The other way: the line came back outside the workflow and that signal was lost too.
        async with seeded_db.begin() as conn:
            await conn.execute(text("UPDATE subscription.subscription SET state = 'active', blocked_reason = NULL, "
                                    "updated_at = updated_at - interval '1 minute' WHERE id = :s"), {"s": sub})
        await eventually(lambda: _pcrf(seeded_db, sub, [("PCRF_BLOCK", "completed"), ("PCRF_UNBLOCK", "completed")]),
                         timeout=5)
    finally:
        await reconciler.stop()


async def test_a_resent_usage_event_delivers_the_signal_again(seeded_api, seeded_db, temporal_env, sub_queue,
                                                              lossy_api):
    api, drops = lossy_api
    sub = await open_line(seeded_api, "PLAN_S")
    await loaded(await start_line(temporal_env, sub_queue, sub))
    event = exhausting((await line(seeded_db, sub))["msisdn"], "resent-1")
    assert (await api.post(USAGE, json=event)).status_code == 201
    assert drops.dropped == 1
    # A deliberate quiet window, not a wait for a state: nothing else may push the block within it.
    await asyncio.sleep(1.0)
    assert await tasks(seeded_db, sub) == []
    resent = await seeded_api.post(USAGE, json=event)  # the network resends; this API's signals get through
    assert resent.status_code == 200, resent.text  # the original answer: nothing rated twice
    await eventually(lambda: _pcrf(seeded_db, sub, [("PCRF_BLOCK", "completed")]), timeout=5)
