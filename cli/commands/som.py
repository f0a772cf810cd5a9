"""`bss som …`: service orders (TMF641) with their CFS/RFS tree and tasks, and services (TMF638/640)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.output import api_errors, emit

SERVICE_ORDERS = "/tmf-api/serviceOrdering/v4/serviceOrder"
ACTIVATIONS = "/tmf-api/ServiceActivationAndConfiguration/v4/service"
TASKS = "/provisioning-api/v1/task"
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]


def _service_order(ident: str, as_json: bool) -> dict[str, Any]:
    """The service order and its tasks, found by its id (SO-…) or its product order's (ORD-…)."""
    from core.api_client import ApiError, BssClient

    with api_errors(as_json), BssClient() as client:
        if ident.startswith("ORD-"):
            found = client.get(SERVICE_ORDERS, externalId=ident)
            if not found:
                raise ApiError(404, {"code": "service_order.not_found", "reason": "Not found",
                                     "message": f"product order {ident} has no service order (yet)",
                                     "status": "404"})
            so = found[0]
        else:
            so = client.get(f"{SERVICE_ORDERS}/{ident}")
        tasks = client.get(TASKS, serviceOrderId=so["id"], limit=1000)
    return {"serviceOrder": so, "tasks": tasks}


def register(app: typer.Typer) -> None:
    """Add the `som` group to `app`."""
    group = typer.Typer(name="som", help="Service orders and services (CFS/RFS).", no_args_is_help=True)
    app.add_typer(group)

    @group.command("so-show")
    def so_show(ident: Annotated[str, typer.Argument(help="Service order (SO-…) or product order"
                                                          " (ORD-…) id.")],
                as_json: JsonOpt = False) -> None:
        """Show a service order as a tree: CFS → RFS → tasks with attempts, durations and ⚠."""
        from cli.render.provisioning import service_order_tree

        data = _service_order(ident, as_json)
        emit(data, as_json, lambda d: service_order_tree(d["serviceOrder"], d["tasks"]))

    @group.command("service-show")
    def service_show(service_id: Annotated[str, typer.Argument(help="Service id (SVC-…).")],
                     as_json: JsonOpt = False) -> None:
        """Show a service with its characteristics, relations, resources and activation tasks."""
        from cli.render.provisioning import service_card
        from core.api_client import BssClient

        with api_errors(as_json), BssClient() as client:
            data = client.get(f"{ACTIVATIONS}/{service_id}")
        emit(data, as_json, service_card)
