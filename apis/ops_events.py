"""The event plane for operators: `/ops-api/v1/events…` (hubs, deliveries, replays), scope `events:admin`.

`GET /events/hubs` lists every subscription (TMF hubs and the built-in notifier) with its read
position and delivery counts, never its secret. `GET /events/deliveries?status=failed&hub=…` lists
deliveries, newest attempt first. `POST /events/deliveries/{deliveryId}/replay` and
`POST /events/hubs/{hubId}/replay` send failed deliveries again, with their original delivery id,
and answer each outcome (a replay that fails again stays `failed`).
"""

from __future__ import annotations

from typing import Literal

from fastapi import Query
from fastapi.responses import JSONResponse

from activities import event_delivery
from apis.routing import BssRouter
from apis.tmf import tmf_response
from core.errors import NotFound
from core.scopes import Scope

BASE = "/ops-api/v1/events"
router = BssRouter(prefix=BASE, tags=["events"])


@router.get("/hubs", scope=Scope.EVENTS_ADMIN)
async def list_hubs() -> JSONResponse:
    """Every event subscription with its position and delivery counts."""
    return tmf_response(await event_delivery.list_hubs())


@router.get("/deliveries", scope=Scope.EVENTS_ADMIN)
async def list_deliveries(status: Literal["delivered", "retrying", "failed"] | None = None,
                          hub: str | None = Query(default=None, max_length=100),
                          limit: int = Query(default=100, ge=1, le=1000)) -> JSONResponse:
    """Deliveries, newest attempt first (`status`, `hub` filter them)."""
    return tmf_response(await event_delivery.list_deliveries(status, hub, limit))


@router.post("/deliveries/{delivery_id}/replay", scope=Scope.EVENTS_ADMIN)
async def replay_delivery(delivery_id: str) -> JSONResponse:
    """Send one failed delivery again."""
    return tmf_response(await event_delivery.replay(delivery_ids=[delivery_id]))


@router.post("/hubs/{hub_id}/replay", scope=Scope.EVENTS_ADMIN)
async def replay_hub(hub_id: str) -> JSONResponse:
    """Send every failed delivery of one hub again, in event order."""
    if hub_id not in {h["id"] for h in await event_delivery.list_hubs()}:
        raise NotFound("hub", hub_id)
    return tmf_response(await event_delivery.replay(subscription_id=hub_id))
