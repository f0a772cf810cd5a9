"""TMF hubs (#17 item 4): a real HTTP listener registered with POST …/hub receives signed events in order.

Each test runs the event waker on its own database (the worker process runs one on a stack), the
in-process workers (the events queue included) and a small listener app served by uvicorn.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy import text
from temporalio.client import WorkflowExecutionStatus

from core.settings import get_settings
from tests.conftest import client_for
from tests.support.event_listener import Listener, listening, subscribe, verify, waking
from tests.support.factories import order_body, ready_customer
from tests.support.polling import until
from workers.event_waker import EventWaker
from workflows.event_dispatch import dispatch_workflow_id

ORDERING = "/tmf-api/productOrderingManagement/v4"
CUSTOMER = "/tmf-api/customerManagement/v4"


@pytest_asyncio.fixture
async def listener() -> AsyncIterator[Listener]:
    """A listener served over real TCP."""
    async with listening() as box:
        yield box


@pytest_asyncio.fixture
async def waker(temporal_env, seeded_db) -> AsyncIterator[EventWaker]:
    """The worker's waker, listening on this test's database, for hubs only (the notifier is NO's)."""
    async with waking(temporal_env.client, seeded_db) as wake:
        yield wake


async def completed_order(api) -> str:
    customer = await ready_customer(api)
    order = await api.post(f"{ORDERING}/productOrder", json=order_body(customer))
    assert order.status_code == 201, order.text
    order_id = order.json()["id"]

    async def done() -> bool:
        return (await api.get(f"{ORDERING}/productOrder/{order_id}")).json()["state"] == "completed"

    await until(done, f"order {order_id} completed", timeout=20)
    return order_id


async def test_order_events_arrive_signed_and_in_order(seeded_api, listener, waker):
    hub = await subscribe(seeded_api, ORDERING, listener.url)
    order_id = await completed_order(seeded_api)

    def order_events() -> list[dict]:
        return [e for e in listener.events() if e["event"]["productOrder"]["id"] == order_id]

    async def all_arrived() -> bool:
        return any(e["event"]["productOrder"].get("state") == "completed" for e in order_events())

    await until(all_arrived, "the completed state change reached the listener")
    events = order_events()
    assert [(e["eventType"], e["event"]["productOrder"]["state"]) for e in events] == [
        ("ProductOrderCreateEvent", "acknowledged"), ("ProductOrderStateChangeEvent", "inProgress"),
        ("ProductOrderStateChangeEvent", "completed")]
    assert all(t.startswith("ProductOrder") for t in listener.types()), "only this API's events reach its hub"
    first = events[0]
    assert first["event"]["productOrder"]["href"] == f"{ORDERING}/productOrder/{order_id}"
    assert first["event"]["productOrder"]["@type"] == "ProductOrder"
    assert first["eventId"] and first["eventTime"] and first["domain"] == "productOrderingManagement"
    ids = [h["x-event-delivery-id"] for h, _ in listener.received]
    assert len(set(ids)) == len(ids) and all(i.startswith(f"{hub['id']}.") for i in ids)
    for headers, body in listener.received:
        verify(hub["secret"], headers, body)


async def test_query_filter_and_delete(seeded_api, listener, waker, temporal_env):
    async with listening() as witness:
        filtered = await subscribe(seeded_api, ORDERING, listener.url,
                                   "eventType=ProductOrderStateChangeEvent&event.productOrder.state=completed,failed")
        await subscribe(seeded_api, ORDERING, witness.url)
        first = await completed_order(seeded_api)

        async def witnessed(order_id: str) -> bool:
            return any(e["event"]["productOrder"]["id"] == order_id and e["eventType"] == "ProductOrderStateChangeEvent"
                       and e["event"]["productOrder"]["state"] == "completed" for e in witness.events())

        await until(lambda: witnessed(first), "the witness saw the first order complete")
        await until(lambda: asyncio.sleep(0, bool(listener.received)), "the filtered hub got its event")
        assert [(e["eventType"], e["event"]["productOrder"]["id"]) for e in listener.events()] == [
            ("ProductOrderStateChangeEvent", first)]

        deleted = await seeded_api.delete(f"{ORDERING}/hub/{filtered['id']}")
        assert deleted.status_code == 204
        dispatcher = temporal_env.client.get_workflow_handle(dispatch_workflow_id(filtered["id"]))

        async def ended() -> bool:
            return (await dispatcher.describe()).status == WorkflowExecutionStatus.COMPLETED

        await until(ended, "the deleted hub's dispatcher ended")
        again = await seeded_api.delete(f"{ORDERING}/hub/{filtered['id']}")
        assert again.status_code == 404 and again.json()["code"] == "hub.not_found"
        elsewhere = await seeded_api.delete(f"{CUSTOMER}/hub/{filtered['id']}")
        assert elsewhere.status_code == 404  # a hub belongs to the API it was registered on

        second = await completed_order(seeded_api)
        await until(lambda: witnessed(second), "the witness saw the second order complete")
        assert len(listener.received) == 1, "a deleted hub receives nothing more"


async def test_refusals(seeded_api, api_url, seeded_db):
    bad = await seeded_api.post(f"{ORDERING}/hub", json={"callback": "ftp://example.com/x"})
    assert bad.status_code == 422 and bad.json()["code"] == "event.hub.callback_invalid"
    relative = await seeded_api.post(f"{CUSTOMER}/hub", json={"callback": "/events"})
    assert relative.status_code == 422 and relative.json()["code"] == "event.hub.callback_invalid"
    query = await seeded_api.post(f"{ORDERING}/hub", json={"callback": "http://127.0.0.1:9/x", "query": "eventType"})
    assert query.status_code == 422 and query.json()["code"] == "event.hub.query_invalid"
    missing = await seeded_api.post(f"{ORDERING}/hub", json={"query": "eventType=X"})
    assert missing.status_code == 400
    unknown = await seeded_api.delete(f"{ORDERING}/hub/no-such-hub")
    assert unknown.status_code == 404
    for surface in ("portal-csr", "portal-self-serve", "agent"):  # the portals and the agent register no listener
        async with client_for(api_url, surface) as portal:
            refused = await portal.post(f"{ORDERING}/hub", json={"callback": "http://127.0.0.1:9/x"})
        assert refused.status_code == 403 and refused.json()["code"] == "auth.scope.denied", surface
    async with seeded_db.connect() as conn:  # nothing was written by any refusal
        assert (await conn.execute(text("SELECT count(*) FROM event.subscription WHERE kind = 'hub'"))).scalar() == 0


async def test_listener_down_for_a_while_still_gets_everything(seeded_api, listener, waker):
    listener.refuse_next = 3  # down for the first three attempts (retries back off; the test server skips the waits)
    hub = await subscribe(seeded_api, CUSTOMER, listener.url)
    customers = [await ready_customer(seeded_api, card=None, verified=False) for _ in range(2)]

    async def both_created() -> bool:
        return len([e for e in listener.events()[3:] if e["eventType"] == "CustomerCreateEvent"]) == 2

    await until(both_created, "both customers' events delivered after the listener came back")
    created = [e["event"]["customer"]["id"] for e in listener.events()[3:] if e["eventType"] == "CustomerCreateEvent"]
    assert created == customers, "in order, each once after the retries"
    first_id = listener.received[0][0]["x-event-delivery-id"]
    assert [h["x-event-delivery-id"] for h, _ in listener.received[:4]] == [first_id] * 4, "retries keep the id"
    for headers, body in listener.received:
        verify(hub["secret"], headers, body)

    async def recorded() -> dict:
        rows = (await seeded_api.get("/ops-api/v1/events/deliveries", params={"hub": hub["id"]})).json()
        return {r["deliveryId"]: (r["status"], r["attempts"]) for r in rows if r["status"] == "delivered"}

    attempts = await until(recorded, "the deliveries recorded (after the listener answered)")
    assert attempts[first_id] == ("delivered", 4)
    assert get_settings().event_delivery_attempts > 4


async def test_failed_delivery_is_visible_and_replayed_by_the_cli(seeded_api, listener, waker, bss, monkeypatch):
    monkeypatch.setenv("BSS_EVENT_DELIVERY_ATTEMPTS", "2")
    get_settings.cache_clear()
    try:
        listener.refuse_all = True
        hub = await subscribe(seeded_api, CUSTOMER, listener.url, "eventType=CustomerCreateEvent")
        poisoned = await ready_customer(seeded_api, card=None, verified=False)

        async def failed() -> list:
            rows = (await seeded_api.get("/ops-api/v1/events/deliveries",
                                         params={"status": "failed", "hub": hub["id"]})).json()
            return rows

        (row,) = await until(failed, "the delivery marked failed after its attempts")
        assert row["attempts"] == 2 and row["eventType"] == "CustomerCreateEvent" and "503" in row["lastError"]
        assert len(listener.received) == 2
        listener.refuse_all = False
        # One poisoned event does not stop the hub: the next one goes through.
        later = await ready_customer(seeded_api, card=None, verified=False)
        await until(lambda: asyncio.sleep(0, len(listener.received) == 3), "the next event delivered")
        assert listener.events()[2]["event"]["customer"]["id"] == later

        listed = await bss("events", "deliveries", "--status", "failed", "--json")
        assert listed.exit_code == 0 and row["deliveryId"] in listed.output
        replayed = await bss("events", "replay", "--hub", hub["id"], "--json")
        assert replayed.exit_code == 0, replayed.output
        assert '"delivered"' in replayed.output
        headers, body = listener.received[3]
        assert headers["x-event-delivery-id"] == row["deliveryId"], "a replay carries the original delivery id"
        assert listener.events()[3]["event"]["customer"]["id"] == poisoned
        verify(hub["secret"], headers, body)
        assert await failed() == []

        async def counted() -> dict | None:
            hubs = (await seeded_api.get("/ops-api/v1/events/hubs")).json()
            mine = next(h for h in hubs if h["id"] == hub["id"])
            return mine if (mine["delivered"], mine["failed"]) == (2, 0) else None

        mine = await until(counted, "two delivered (one of them replayed), none failed")
        assert "secret" not in mine and mine["callback"] == listener.url
        unknown = await seeded_api.post(f"/ops-api/v1/events/deliveries/{row['deliveryId']}/replay")
        assert unknown.status_code == 404 and unknown.json()["code"] == "failed_delivery.not_found"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_cli_subscribes_lists_and_unsubscribes(seeded_api, bss):
    made = await bss("events", "subscribe", "--api", "party", "--callback", "http://127.0.0.1:9/cli", "--json")
    assert made.exit_code == 0, made.output
    hub = json.loads(made.output)
    assert hub["secret"] and hub["callback"] == "http://127.0.0.1:9/cli"
    listed = json.loads((await bss("events", "hubs", "--json")).output)
    assert {"id": hub["id"], "api": "/tmf-api/party/v4", "state": "active"}.items() <= next(
        h for h in listed if h["id"] == hub["id"]).items()
    gone = await bss("events", "unsubscribe", hub["id"], "--api", "party", "--yes")
    assert gone.exit_code == 0, gone.output
    again = await bss("events", "unsubscribe", hub["id"], "--api", "party", "--yes")
    assert again.exit_code != 0 and "hub.not_found" in again.output
