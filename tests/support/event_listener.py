"""A webhook listener for the event-plane tests: a small app served by uvicorn that records what it gets."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.db import asyncpg_dsn
from tests.support.http import serve
from workers.event_waker import EventWaker


@dataclass
class Listener:
    """A webhook receiver: what it got, and knobs to make it fail or hang."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    refuse_next: int = 0  # answer 503 to this many requests
    refuse_all: bool = False
    hold: asyncio.Event | None = None  # when set up, a request waits for it before answering
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        self.received.append((dict(request.headers), body))
        self.arrived.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.refuse_all or self.refuse_next > 0:
            self.refuse_next -= 1
            return Response("down", status_code=503)
        return Response(status_code=204)

    def events(self) -> list[dict]:
        """Bodies received, in arrival order."""
        return [json.loads(body) for _, body in self.received]

    def types(self) -> list[str]:
        return [e["eventType"] for e in self.events()]


@asynccontextmanager
async def listening() -> AsyncIterator[Listener]:
    """A listener served over real TCP at `.url`."""
    box = Listener()
    app = Starlette(routes=[Route("/events", box.handle, methods=["POST"])])
    async with serve(app) as url:
        box.url = f"{url}/events"
        yield box


def verify(secret: str, headers: dict[str, str], body: bytes) -> None:
    """The signature is HMAC-SHA256 of the exact body with the hub's secret."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-event-signature"], expected), headers
    assert headers["x-event-timestamp"].isdigit()


async def subscribe(api, base: str, callback: str, query: str | None = None) -> dict:
    body = {"callback": callback} | ({"query": query} if query else {})
    response = await api.post(f"{base}/hub", json=body)
    assert response.status_code == 201, response.text
    hub = response.json()
    assert hub["callback"] == callback and hub["secret"] and hub["id"]
    assert response.headers["location"].endswith(f"{base}/hub/{hub['id']}")
    return hub


@asynccontextmanager
async def waking(client: object, engine: AsyncEngine, kinds: tuple[str, ...] = ("hub",)
                 ) -> AsyncIterator[EventWaker]:
    """The worker's waker on this test's database, for hubs only unless told (the notifier mails customers)."""
    wake = EventWaker(client, asyncpg_dsn(engine), kinds=kinds)  # type: ignore[arg-type]
    await wake.start()
    try:
        yield wake
    finally:
        await wake.stop()
