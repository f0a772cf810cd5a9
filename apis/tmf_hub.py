"""TMF630 part 2 / TMF688 listeners: `POST <api>/hub` and `DELETE <api>/hub/{id}` on every TMF API we serve.

A hub receives the resource events of the API it was registered on (domain/events.py maps the
audit log to them), filtered by its optional `query` (`eventType=A,B&event.productOrder.state=completed`),
POSTed to its `callback` signed with the `secret` returned once, here, at creation
(activities/event_delivery.py). Registering listeners is an integration's job: the portals and the
agent do not hold `events:admin` (core/scopes.py).
"""

from __future__ import annotations

import logging

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from activities import event_delivery
from apis.routing import BssRouter
from apis.tmf import tmf_response
from core.scopes import Scope
from domain.events import API_BASES
from workflows.event_dispatch import wake

log = logging.getLogger("bss.events")


class HubIn(BaseModel):
    """TMF EventSubscriptionInput."""

    model_config = ConfigDict(extra="forbid")
    callback: str = Field(min_length=1, max_length=2000)
    query: str | None = Field(default=None, max_length=2000)


def hub_router(base: str) -> BssRouter:
    """The hub routes of one TMF API base."""
    hubs = BssRouter(prefix=base, tags=["TMF hub"])
    api = base.split("/")[2]

    @hubs.post("/hub", scope=Scope.EVENTS_ADMIN, status_code=201, operation_id=f"registerListener_{api}")
    async def register_listener(body: HubIn, request: Request) -> JSONResponse:
        """Register a listener for this API's events; the response carries its signing secret, once."""
        hub = await event_delivery.create_hub(base, body.callback, body.query)
        try:
            # The dispatcher starts now; were Temporal away, the worker's waker starts it on the next event.
            await wake(await request.app.state.temporal.client(), hub["id"])
        except Exception as exc:  # noqa: BLE001 - best effort: the waker starts it on the next event
            log.warning("hub %s: dispatcher not started yet: %s", hub["id"], exc)
        out = {"id": hub["id"], "callback": hub["callback"], "secret": hub["secret"]}
        if hub["query"]:
            out["query"] = hub["query"]
        return tmf_response(out, status=201, headers={"Location": f"{base}/hub/{hub['id']}"})

    @hubs.delete("/hub/{hub_id}", scope=Scope.EVENTS_ADMIN, status_code=204,
                 operation_id=f"unregisterListener_{api}")
    async def unregister_listener(hub_id: str, request: Request) -> Response:
        """Stop a listener: nothing more is sent to it."""
        await event_delivery.delete_hub(base, hub_id)
        try:
            await wake(await request.app.state.temporal.client(), hub_id)  # it sees the deletion and ends
        except Exception as exc:  # noqa: BLE001 - best effort: the waker starts it on the next event
            log.warning("hub %s: dispatcher not told of its deletion: %s", hub_id, exc)
        return Response(status_code=204)

    return hubs


router = BssRouter()
for _base in API_BASES:
    router.include_router(hub_router(_base))
