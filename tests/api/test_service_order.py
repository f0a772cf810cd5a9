"""TMF641 service orders, TMF638 services and the TMF640 activation view over real HTTP (spec-checked)."""

from __future__ import annotations

import pytest

from activities.provisioning import run_provisioning_task
from activities.service_order import cancel_service_order, complete_service_order, create_service_order
from domain.provisioning_flow import CancelServiceOrder, CompleteServiceOrder, CreateServiceOrder, RunTask
from simulators import network

SO = "/tmf-api/serviceOrdering/v4/serviceOrder"
SVC = "/tmf-api/serviceInventory/v4/service"
ACT = "/tmf-api/ServiceActivationAndConfiguration/v4/service"
# What TMF clients check on every TMF638/TMF640 service (notes/tmf.md).
STRICT = {"category", "description", "href", "id", "name", "place", "relatedParty", "serviceCharacteristic",
          "serviceRelationship", "serviceSpecification", "startDate", "state", "supportingResource",
          "supportingService"}


def order(n: int = 1) -> CreateServiceOrder:
    return CreateServiceOrder(order_id=f"ORD-90000{n}", customer_id=f"CUST-90000{n}", offering_id="PLAN_M",
                              msisdn=f"9000012{n}", iccid=f"891010100000000012{n}")


@pytest.fixture(autouse=True)
def fast_network(monkeypatch):
    monkeypatch.setattr(network, "latency_scale", 0.01)


async def test_a_service_order_lists_its_cfs_and_rfs_as_items(seeded_api):
    plan = await create_service_order(order(1))
    await create_service_order(order(2))
    listed = await seeded_api.get(SO, params={"externalId": "ORD-900001"})
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "1"
    (so,) = listed.json()
    assert {"href", "id", "orderDate", "serviceOrderItem", "state"} <= so.keys()
    assert (so["id"], so["state"], so["externalId"]) == (plan.service_order_id, "inProgress", "ORD-900001")
    assert so["relatedParty"][0]["id"] == "CUST-900001"
    assert so["orderRelationship"][0] == {**so["orderRelationship"][0], "id": "ORD-900001",
                                          "relationshipType": "cross-ref"}
    items = so["serviceOrderItem"]
    assert [(i["action"], i["service"]["category"], i["service"]["name"]) for i in items] == [
        ("add", "CFS", "MobileBroadband"), ("add", "RFS", "DataService"), ("add", "RFS", "VoiceService")]
    assert items[1]["serviceOrderItemRelationship"][0]["orderItem"]["itemId"] == items[0]["id"]
    assert (await seeded_api.get(f"{SO}/{plan.service_order_id}")).json() == so
    in_progress = await seeded_api.get(SO, params={"state": "inProgress", "fields": "state"})
    assert in_progress.headers["X-Total-Count"] == "2"
    assert set(in_progress.json()[0]) == {"id", "href", "@type", "state"}
    assert (await seeded_api.get(SO, params={"state": "completed"})).json() == []
    by_customer = await seeded_api.get(SO, params={"relatedParty.id": "CUST-900002"})
    assert by_customer.headers["X-Total-Count"] == "1"


async def test_services_carry_every_attribute_tmf_clients_check(seeded_api):
    await create_service_order(order(1))
    listed = await seeded_api.get(SVC, params={"relatedEntity.id": "ORD-900001"})
    services = listed.json()
    assert listed.status_code == 200 and len(services) == 3
    for svc in services:
        assert STRICT <= svc.keys(), STRICT - svc.keys()
        assert svc["state"] == "reserved" and [p["role"] for p in svc["place"]] == ["homeNetwork"]
    cfs, data, voice = services
    assert [s["id"] for s in cfs["supportingService"]] == [data["id"], voice["id"]]
    assert data["serviceRelationship"][0]["service"]["id"] == cfs["id"]
    assert {r["@referredType"] for r in cfs["supportingResource"]} == {"MSISDN", "ESimProfile"}
    chars = {c["name"]: c["value"] for c in data["serviceCharacteristic"]}
    assert chars["msisdn"] == "90000121"
    assert chars["apn"] == "internet" and chars["qos"]["qci"] == 9
    assert (await seeded_api.get(f"{SVC}/{voice['id']}")).json() == voice
    rfs = await seeded_api.get(SVC, params={"category": "RFS", "serviceSpecification.name": "VoiceService"})
    assert [s["id"] for s in rfs.json()] == [voice["id"]]
    by_so = await seeded_api.get(SVC, params={"serviceOrderItem.serviceOrderId": cfs["serviceOrderItem"][0]
                                              ["serviceOrderId"]})
    assert by_so.headers["X-Total-Count"] == "3"


async def test_the_activation_view_shows_each_task_on_its_service(seeded_api):
    plan = await create_service_order(order(1))
    await run_provisioning_task(RunTask(task_id=plan.tasks[0].task_id))  # HLR_PROVISION → VoiceService
    activations = (await seeded_api.get(ACT, params={"relatedEntity.id": "ORD-900001"})).json()
    assert len(activations) == 3
    for svc in activations:
        assert STRICT <= svc.keys() and svc["href"].endswith(f"{ACT}/{svc['id']}")
    tasks = {c["name"]: c["value"] for svc in activations for c in svc["serviceCharacteristic"]
             if c["name"].startswith("task.")}
    assert set(tasks) == {"task.HLR_PROVISION", "task.PCRF_POLICY_PUSH", "task.OCS_BALANCE_INIT",
                          "task.ESIM_PROFILE_PREPARE"}
    assert (tasks["task.HLR_PROVISION"]["state"], tasks["task.HLR_PROVISION"]["attempts"]) == ("completed", 1)
    assert tasks["task.PCRF_POLICY_PUSH"]["state"] == "pending"
    voice = activations[2]
    shown = (await seeded_api.get(f"{ACT}/{voice['id']}")).json()
    assert shown == voice and any(c["name"] == "task.HLR_PROVISION" for c in shown["serviceCharacteristic"])


async def test_completion_activates_and_compensation_fails_the_services(seeded_api):
    plan = await create_service_order(order(1))
    for task in plan.tasks:
        await run_provisioning_task(RunTask(task_id=task.task_id))
    await complete_service_order(CompleteServiceOrder(order_id="ORD-900001", subscription_id="SUB-900001"))
    done = (await seeded_api.get(f"{SO}/{plan.service_order_id}")).json()
    assert done["state"] == "completed" and "completionDate" in done
    assert {i["state"] for i in done["serviceOrderItem"]} == {"completed"}
    active = (await seeded_api.get(SVC, params={"state": "active", "relatedEntity.id": "SUB-900001"})).json()
    assert len(active) == 3 and all(s["isServiceEnabled"] and s["hasStarted"] for s in active)
    assert {"id": "SUB-900001", "role": "product"}.items() <= active[0]["relatedEntity"][1].items()

    await create_service_order(order(2))
    await cancel_service_order(CancelServiceOrder(order_id="ORD-900002", reason="PCRF rejected", failed=True))
    (failed,) = (await seeded_api.get(SO, params={"externalId": "ORD-900002"})).json()
    assert failed["state"] == "failed" and failed["note"][0]["text"] == "PCRF rejected"
    query = {"relatedEntity.id": "ORD-900002", "state": "inactive"}
    inactive = (await seeded_api.get(SVC, params=query)).json()
    assert len(inactive) == 3


async def test_unknown_ids_are_404_and_bad_queries_400(seeded_api):
    missing = ((f"{SO}/SO-999999", "service_order.not_found"), (f"{SVC}/SVC-999999", "service.not_found"),
               (f"{ACT}/SVC-999999", "service.not_found"))
    for path, code in missing:
        response = await seeded_api.get(path)
        assert response.status_code == 404 and response.json()["code"] == code
    for path, params in ((SO, {"state": "in_progress"}), (SO, {"col our": "red"}),
                         (SVC, {"state": "activated"}), (ACT, {"order Id": "ORD-1"}), (SVC, {"limit": "0"})):
        response = await seeded_api.get(path, params=params)
        assert response.status_code == 400 and response.json()["code"] == "request.malformed", (path, params)
