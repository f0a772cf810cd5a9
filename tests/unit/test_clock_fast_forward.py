"""A clock advance that times out still sends every workflow its target (apis/ops_clock.fast_forward_all).

The renewal storm bench (10,000 lines, bench/README.md) found the advance cancelling the fast-forwards
still queued behind its concurrency gate at the timeout: those lines never moved, lagged the stack's
clock for good and were never renewed. A fake skipper stands in for the server here.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace

from temporalio.testing import TimeSkippingConfig

from apis import ops_clock


class FakeHandle:
    """What `client.get_workflow_handle` returns: just the id."""

    def __init__(self, workflow_id: str) -> None:
        self.id = workflow_id


class FakeClient:
    """Hands out handles."""

    def get_workflow_handle(self, workflow_id: str) -> FakeHandle:
        """The handle of one workflow."""
        return FakeHandle(workflow_id)


class FakeSkipper:
    """Records each target sent; a workflow arrives only if it is in `arrives`, else never within the test."""

    def __init__(self, arrives: set[str]) -> None:
        self.sent: list[tuple[str, timedelta]] = []
        self.arrives = arrives
        self.config = TimeSkippingConfig(enabled=False, disable_propagation=True)

    async def _update_time_skipping_config(self, handle: FakeHandle, config) -> None:
        await asyncio.sleep(0)
        self.sent.append((handle.id, config.fast_forward_config.duration))

    async def _poll_fast_forward_completion(self, handle: FakeHandle, move: str) -> bool:
        if handle.id in self.arrives:
            return True
        await asyncio.sleep(3600)
        return True

    async def fast_forward(self, handle: FakeHandle, duration: timedelta) -> bool:
        """The SDK's one call: send, then watch."""
        await self._update_time_skipping_config(handle, SimpleNamespace(
            fast_forward_config=SimpleNamespace(duration=duration)))
        return await self._poll_fast_forward_completion(handle, "move")


async def test_a_timed_out_advance_sends_every_workflow_its_target() -> None:
    ids = [f"subscription-SUB-{n:06d}" for n in range(3 * ops_clock.PARALLEL)]
    skipper = FakeSkipper(arrives=set(ids[:5]))
    report = await ops_clock.fast_forward_all(skipper, FakeClient(), ids, timedelta(days=30), timeout_s=0.2)
    assert sorted(wid for wid, _ in skipper.sent) == sorted(ids)  # each once, none left behind
    assert {delta for _, delta in skipper.sent} == {timedelta(days=30)}
    assert report["moved"] == 5 and report["failed"] == []
    assert sorted(report["timedOut"]) == sorted(ids[5:])


async def test_an_advance_in_time_watches_every_workflow_arrive() -> None:
    ids = [f"subscription-SUB-{n:06d}" for n in range(2 * ops_clock.PARALLEL)]
    skipper = FakeSkipper(arrives=set(ids))
    report = await ops_clock.fast_forward_all(skipper, FakeClient(), ids, timedelta(hours=1), timeout_s=5)
    assert report == {"open": len(ids), "moved": len(ids), "ended": 0, "timedOut": [], "failed": []}
    assert len(skipper.sent) == len(ids)
