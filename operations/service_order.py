"""Service order operations: a service order (TMF641) with its CFS/RFS tree and tasks, and a service (TMF640)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.api_error import ApiError
from core.scopes import Scope
from operations.registry import Client, Input, operation

SERVICE_ORDERS = "/tmf-api/serviceOrdering/v4/serviceOrder"
ACTIVATIONS = "/tmf-api/ServiceActivationAndConfiguration/v4/service"
TASKS = "/provisioning-api/v1/task"


class ShowServiceOrder(Input):
    """Which service order."""

    service_order_id: str = Field(pattern=r"^(SO|ORD)-\d+$",
                                  description="Service order (SO-…) or product order (ORD-…) id.")


@operation("som.so_show", scope=Scope.SERVICE_READ, arguments=("service_order_id",),
           routes=[f"GET {SERVICE_ORDERS}", f"GET {SERVICE_ORDERS}/{{service_order_id}}", f"GET {TASKS}"])
def so_show(client: Client, args: ShowServiceOrder) -> Any:
    """Show a service order as a tree: CFS → RFS → tasks with attempts, durations and ⚠."""
    if args.service_order_id.startswith("ORD-"):
        found = client.request("GET", SERVICE_ORDERS, params={"externalId": args.service_order_id})
        if not found:
            raise ApiError(404, {"code": "service_order.not_found", "reason": "Not found", "status": "404",
                                 "message": f"product order {args.service_order_id} has no service order (yet)"})
        so = found[0]
    else:
        so = client.request("GET", f"{SERVICE_ORDERS}/{args.service_order_id}")
    tasks = client.request("GET", TASKS, params={"serviceOrderId": so["id"], "limit": 1000})
    return {"serviceOrder": so, "tasks": tasks}


class ShowService(Input):
    """Which service."""

    service_id: str = Field(pattern=r"^SVC-\d+$", description="Service id (SVC-…).")


@operation("som.service_show", scope=Scope.SERVICE_READ, routes=[f"GET {ACTIVATIONS}/{{service_id}}"],
           arguments=("service_id",))
def service_show(client: Client, args: ShowService) -> Any:
    """Show a service with its characteristics, relations, resources and activation tasks."""
    return client.request("GET", f"{ACTIVATIONS}/{args.service_id}")
