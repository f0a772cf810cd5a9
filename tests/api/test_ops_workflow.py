"""The Ops API for workflows (`/ops-api/v1/workflow…`) on the real Temporal dev server and PostgreSQL:
lists with filters and paging, stuck orders, one execution with its pending activities, its history,
Web UI links on every answer, and the TMF errors of an unknown id, a bad filter and Temporal out of reach."""

from __future__ import annotations

import httpx
from temporalio.client import Client

from apis.app import create_app
from tests.conftest import TEST_TOKENS
from tests.support.factories import ready_customer
from tests.support.polling import until
from tests.workflows.order_helpers import place_order, set_fault, wait_step
from workflows import queues

WORKFLOW = "/ops-api/v1/workflow"
PING = "/bss-api/v1/diagnostics/ping"


async def _ping(api: httpx.AsyncClient) -> str:
    response = await api.post(PING, json={"note": "ops workflow api"})
    assert response.status_code == 201, response.text
    return response.json()["workflowId"]


async def _listed(api: httpx.AsyncClient, path: str, workflow_id: str, **params: str) -> list[dict]:
    """Poll a list until it names `workflow_id` (visibility lags the workflow by a few milliseconds)."""
    async def rows() -> list[dict] | None:
        response = await api.get(path, params=params)
        assert response.status_code == 200, response.text
        found = response.json()
        return found if any(r["workflowId"] == workflow_id for r in found) else None

    return await until(rows, f"{workflow_id} in {path} {params}")


async def test_a_ping_is_listed_shown_and_its_history_read_with_web_ui_links(api, worker):
    workflow_id = await _ping(api)
    rows = await _listed(api, WORKFLOW, workflow_id, type="PingWorkflow", status="completed", limit="5")
    row = next(r for r in rows if r["workflowId"] == workflow_id)
    assert (row["type"], row["status"]) == ("PingWorkflow", "COMPLETED") and row["closed"]
    namespace = (await api.get(f"{WORKFLOW}/{workflow_id}")).json()["webUi"].split("/namespaces/")[1].split("/")[0]
    assert row["webUi"].endswith(f"/namespaces/{namespace}/workflows/{workflow_id}/{row['runId']}/history")
    await _listed(api, WORKFLOW, await _ping(api), type="PingWorkflow")  # a second one, for a second page
    first_two = await api.get(WORKFLOW, params={"type": "PingWorkflow", "limit": "2"})
    assert int(first_two.headers["X-Total-Count"]) >= 2 and first_two.headers["X-Result-Count"] == "2"
    link = first_two.headers["Link"]
    assert "/workflows?query=WorkflowType%20%3D%20%27PingWorkflow%27" in link and 'rel="temporal-web-ui"' in link
    second_page = await api.get(WORKFLOW, params={"type": "PingWorkflow", "offset": "1", "limit": "1"})
    assert second_page.json() == first_two.json()[1:]

    shown = (await api.get(f"{WORKFLOW}/{workflow_id}")).json()
    assert (shown["workflowId"], shown["type"], shown["status"]) == (workflow_id, "PingWorkflow", "COMPLETED")
    assert shown["taskQueue"] == queues.SYSTEM and shown["pendingActivities"] == [] and shown["historyLength"] > 3
    assert shown["webUi"] == row["webUi"]

    history = (await api.get(f"{WORKFLOW}/{workflow_id}/history")).json()
    assert (history["workflowId"], history["runId"], history["webUi"]) == (workflow_id, row["runId"], row["webUi"])
    events = history["events"]
    assert events[0]["type"] == "workflow_execution_started" and events[0]["detail"] == "PingWorkflow"
    assert events[-1]["type"] == "workflow_execution_completed"
    assert [e["eventId"] for e in events] == list(range(1, len(events) + 1))
    assert any(e["type"] == "activity_task_scheduled" and e["detail"] for e in events)


async def test_an_order_held_before_provisioning_shows_its_pending_activities_then_is_listed_stuck(
        seeded_api, seeded_db, worker):
    await set_fault(seeded_api, "ESIM_PROFILE_PREPARE", "stuck")
    await worker.pause(queues.PROVISIONING)
    customer = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer)
    workflow_id = f"order-{order['id']}"
    await wait_step(seeded_db, order["id"], "PROVISIONING")

    async def waiting() -> dict | None:
        shown = (await seeded_api.get(f"{WORKFLOW}/{workflow_id}")).json()
        return shown if shown["pendingActivities"] else None

    shown = await until(waiting, "a pending provisioning activity")
    assert (shown["status"], shown["searchAttributes"]["CustomerId"]) == ("RUNNING", customer)
    pending = shown["pendingActivities"][0]
    assert pending["activityType"] and pending["state"] == "SCHEDULED" and pending["attempt"] == 1
    assert pending["lastFailure"] is None

    worker.start(queues.PROVISIONING)
    stuck = await _listed(seeded_api, f"{WORKFLOW}/stuck", workflow_id)
    row = next(r for r in stuck if r["workflowId"] == workflow_id)
    assert (row["orderStatus"], row["customerId"], row["status"]) == ("STUCK", customer, "RUNNING")
    mine = await seeded_api.get(WORKFLOW, params={"orderId": order["id"], "status": "running"})
    assert [r["workflowId"] for r in mine.json()] == [workflow_id]
    assert [r["workflowId"] for r in (await seeded_api.get(WORKFLOW, params={"customerId": customer})).json()] \
        == [workflow_id]  # the line's workflow starts only when the order completes


async def test_an_unknown_workflow_is_a_tmf_404(api):
    for path in (f"{WORKFLOW}/order-ORD-404404", f"{WORKFLOW}/order-ORD-404404/history"):
        response = await api.get(path)
        assert response.status_code == 404, response.text
        error = response.json()
        assert (error["@type"], error["code"], error["status"]) == ("Error", "workflow.not_found", "404")


async def test_filters_temporal_cannot_take_are_refused_before_it_is_asked(api):
    for params, field in (({"status": "sleeping"}, "status"), ({"customerId": "CUST-1' OR 'a'='a"}, "customerId"),
                          ({"query": "WorkflowType = "}, "query"), ({"col our": "red"}, "col our"),
                          ({"limit": "0"}, "limit")):
        response = await api.get(WORKFLOW, params=params)
        assert response.status_code == 400, (params, response.text)
        assert (response.json()["code"], response.json()["context"]["field"]) == ("request.malformed", field)


async def test_temporal_out_of_reach_is_a_503():
    unreachable = await Client.connect("127.0.0.1:9", namespace="bss", lazy=True)
    app = create_app(temporal_client=unreachable)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bss",
                                 headers={"X-BSS-API-Token": TEST_TOKENS["cli"]}) as client:
        for path in (WORKFLOW, f"{WORKFLOW}/stuck", f"{WORKFLOW}/order-ORD-1", f"{WORKFLOW}/order-ORD-1/history"):
            response = await client.get(path)
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "temporal.unavailable"
