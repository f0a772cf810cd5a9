"""A lazily connected Temporal client shared by all requests of the API process."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from core.errors import ExternalServiceError
from core.temporal import connect


class TemporalGateway:
    """Connect on first use (the dev server may start beside the API) and reuse the client."""

    def __init__(self, client: Client | None = None) -> None:
        self._client = client
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        """Return the connected client, connecting once if needed."""
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    try:
                        self._client = await connect()
                    except Exception as exc:
                        raise ExternalServiceError("temporal.unavailable", f"Temporal is not reachable: {exc}") from exc
        return self._client

    @property
    def connected(self) -> bool:
        """True once a client exists."""
        return self._client is not None
