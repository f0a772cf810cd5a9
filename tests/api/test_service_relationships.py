"""TMF638 services carry serviceRelationship (CFS ↔ RFS), serviceSpecification and place (#17 item 3).

Bodies are validated against the TMF638/TMF640 `Service` definition by the client fixture; the filters on
the new attributes go through the TMF630 refinement (or the store, for serviceSpecification).
"""

from __future__ import annotations

from activities.service_order import create_service_order
from domain.provisioning_flow import CreateServiceOrder

SVC = "/tmf-api/serviceInventory/v4/service"
ACT = "/tmf-api/ServiceActivationAndConfiguration/v4/service"
HOME = "PLMN-525-01"


def order(n: int) -> CreateServiceOrder:
    return CreateServiceOrder(order_id=f"ORD-80000{n}", customer_id=f"CUST-80000{n}", offering_id="PLAN_M",
                              msisdn=f"9000013{n}", iccid=f"891010100000000013{n}")


def related(svc: dict, kind: str) -> list[str]:
    return [r["service"]["id"] for r in svc["serviceRelationship"] if r["relationshipType"] == kind]


async def test_cfs_and_rfs_relate_both_ways_with_spec_and_home_network(seeded_api):
    await create_service_order(order(1))
    await create_service_order(order(2))
    cfs, data, voice = (await seeded_api.get(SVC, params={"relatedEntity.id": "ORD-800001"})).json()
    assert (cfs["category"], data["serviceSpecification"]["id"], voice["serviceSpecification"]["id"]) == (
        "CFS", "DataService", "VoiceService")
    assert related(cfs, "reliesOn") == [data["id"], voice["id"]] and related(cfs, "supports") == []
    for rfs in (data, voice):
        assert related(rfs, "supports") == [cfs["id"]] and related(rfs, "reliesOn") == []
    for relationship in cfs["serviceRelationship"] + data["serviceRelationship"]:
        target = (await seeded_api.get(relationship["service"]["href"])).json()
        assert (target["id"], target["serviceSpecification"]["name"]) == (relationship["service"]["id"],
                                                                         relationship["service"]["name"])
    assert cfs["serviceSpecification"] == {
        "id": "MobileBroadband", "href": "urn:bss-cli:serviceSpecification:MobileBroadband", "name": "MobileBroadband",
        "version": "1.0", "@referredType": "ServiceSpecification"}
    for svc in (cfs, data, voice):
        assert svc["place"] == [{"id": HOME, "href": "urn:bss-cli:place:plmn:525-01",
                                 "name": "home network (MCC 525, MNC 01)", "role": "homeNetwork",
                                 "@referredType": "Place"}]
    # The activation view renders the same relations.
    shown = (await seeded_api.get(f"{ACT}/{cfs['id']}")).json()
    assert shown["serviceRelationship"] == [{**r, "service": {**r["service"], "href": r["service"]["href"].replace(
        "serviceInventory/v4", "ServiceActivationAndConfiguration/v4")}} for r in cfs["serviceRelationship"]]

    # Filters on the new attributes.
    children = await seeded_api.get(SVC, params={"serviceRelationship.service.id": cfs["id"]})
    assert [s["id"] for s in children.json()] == [data["id"], voice["id"]]
    parents = await seeded_api.get(SVC, params={"serviceRelationship.relationshipType": "reliesOn"})
    assert len(parents.json()) == 2 and {s["category"] for s in parents.json()} == {"CFS"}
    by_spec = await seeded_api.get(SVC, params={"serviceSpecification.id": "DataService"})
    assert by_spec.headers["X-Total-Count"] == "2" and {s["id"] for s in by_spec.json()} >= {data["id"]}
    assert len((await seeded_api.get(SVC, params={"place.id": HOME})).json()) == 6
    assert (await seeded_api.get(SVC, params={"place.id": "PLMN-525-99"})).json() == []
    assert (await seeded_api.get(SVC, params={"place.role": "homeNetwork", "category": "RFS",
                                              "relatedEntity.id": "ORD-800002"})).headers["X-Total-Count"] == "2"
