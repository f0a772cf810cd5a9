"""A lazily connected Temporal client shared by all requests of the API process.

On a time-skipping stack (scenario time, DESIGN.md §6) the client is wrapped in a `TimeSkipper`
that starts every workflow with auto-skipping *off* (an idle line must not race to its next
timer) and without propagation to children; `bss clock advance` moves them with `fast_forward`.
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client, WorkflowExecutionDescription, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import TimeSkipper

from core.errors import ExternalServiceError
from core.temporal import connect, scenario_skipper


class TemporalGateway:
    """Connect on first use (the dev server may start beside the API) and reuse the client."""

    def __init__(self, client: Client | None = None, time_skipping: bool = False) -> None:
        self._time_skipping = time_skipping
        self._skipper: TimeSkipper | None = None
        self._client = self._wrap(client) if client is not None else None
        self._lock = asyncio.Lock()

    def _wrap(self, client: Client) -> Client:
        if not self._time_skipping:
            return client
        self._skipper = scenario_skipper(client)
        return self._skipper.client

    async def client(self) -> Client:
        """Return the connected client, connecting once if needed."""
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    try:
                        self._client = self._wrap(await connect())
                    except Exception as exc:
                        raise ExternalServiceError("temporal.unavailable", f"Temporal is not reachable: {exc}") from exc
        return self._client

    async def skipper(self) -> TimeSkipper | None:
        """The time skipper that fast-forwards workflows (None outside scenario mode)."""
        await self.client()
        return self._skipper

    @property
    def connected(self) -> bool:
        """True once a client exists."""
        return self._client is not None


async def describe_or_none(handle: WorkflowHandle) -> WorkflowExecutionDescription | None:
    """Describe a workflow; None when Temporal says it does not exist, any other failure raised."""
    try:
        return await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise  # unreachable, timed out, …: the caller cannot tell whether it exists
