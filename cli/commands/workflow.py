"""`bss workflow`: what Temporal is running — lists, stuck orders, histories, Web UI links."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import typer

# Orders an operator must act on: a provisioning task stuck, or an undo the order could not do
# (it ended failed/cancelled with that money or resource left over; workflows/order.py).
STUCK_QUERY = ("WorkflowType = 'OrderWorkflow' AND ((ExecutionStatus = 'Running' AND OrderStatus = 'STUCK')"
               " OR UndoFailed IS NOT NULL)")


def _ui_link(workflow_id: str, run_id: str | None = None) -> str:
    from core.settings import get_settings

    settings = get_settings()
    link = f"{settings.temporal_web_url}/namespaces/{settings.temporal_namespace}/workflows/{workflow_id}"
    return f"{link}/{run_id}/history" if run_id else link


async def _list(query: str | None, limit: int) -> list[dict]:
    from core.temporal import connect
    from workflows.search_attributes import CUSTOMER_ID, ORDER_STATUS, UNDO_FAILED

    client = await connect()
    found = []
    async for wf in client.list_workflows(query or None, limit=limit):
        attrs = wf.typed_search_attributes
        found.append({"workflowId": wf.id, "runId": wf.run_id, "type": wf.workflow_type,
                      "status": wf.status.name if wf.status else "UNKNOWN",
                      "started": wf.start_time.isoformat() if wf.start_time else None,
                      "orderStatus": attrs.get(ORDER_STATUS), "customerId": attrs.get(CUSTOMER_ID),
                      "undoFailed": attrs.get(UNDO_FAILED),
                      "webUi": _ui_link(wf.id, wf.run_id)})
    return found


def _run(work: Coroutine[Any, Any, Any], as_json: bool) -> Any:
    """Run a Temporal call; an unknown workflow or an unreachable server ends in a readable error."""
    from temporalio.service import RPCError, RPCStatusCode

    from cli.output import fail, print_json

    try:
        return asyncio.run(work)
    except RPCError as exc:
        code, message = ("workflow.not_found" if exc.status == RPCStatusCode.NOT_FOUND else "temporal.error"), exc.message
    except RuntimeError as exc:  # the client could not connect at all
        code, message = "temporal.unreachable", f"{exc}; is the stack up? try `bss up`"
    if as_json:
        print_json({"code": code, "message": message})
        raise SystemExit(2)
    from rich.markup import escape

    fail(f"[bold]{code}[/]\n{escape(message)}", code=2, title="refused")


def register(app: typer.Typer) -> None:
    """Add the `workflow` group to `app`."""
    group = typer.Typer(help="Temporal workflows behind orders and lines.", no_args_is_help=True)
    app.add_typer(group, name="workflow")

    @group.command("list")
    def list_workflows(query: str | None = typer.Option(None, "--query", help="Temporal visibility query."),
                       limit: int = typer.Option(20, "--limit", help="How many."),
                       as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """List workflows (newest first), with their Web UI links in --json."""
        from cli.output import emit
        from cli.render.workflow import workflows_table

        emit(_run(_list(query, limit), as_json), as_json, workflows_table)

    @group.command("stuck")
    def stuck(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """List orders waiting for an operator (a provisioning task is stuck, or an undo failed)."""
        from cli.output import console, emit
        from cli.render.workflow import workflows_table

        rows = _run(_list(STUCK_QUERY, 100), as_json)
        emit(rows, as_json, lambda r: workflows_table(r, "orders waiting for an operator"))
        if not as_json:
            for r in rows:
                console.print(f"  {r['workflowId']}  [link={r['webUi']}]{r['webUi']}[/link]")
            console.print(f"[dim]Web UI query: {STUCK_QUERY}[/]")

    @group.command("show")
    def show(workflow_id: str = typer.Argument(..., help="Workflow id, e.g. order-ORD-000042."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Describe one workflow: status, search attributes, Web UI link."""
        from cli.output import emit
        from cli.render.workflow import workflow_card

        emit(_run(_describe(workflow_id), as_json), as_json, workflow_card)

    @group.command("history")
    def history(workflow_id: str = typer.Argument(..., help="Workflow id."),
                as_json: bool = typer.Option(False, "--json", help="Print the raw history JSON.")) -> None:
        """Print the event history of a workflow (activities, timers, updates)."""
        from cli.output import emit
        from cli.render.workflow import history_table

        emit(_run(_history(workflow_id), as_json), as_json, lambda events: history_table(events, workflow_id))


async def _describe(workflow_id: str) -> dict:
    from core.temporal import connect

    client = await connect()
    d = await client.get_workflow_handle(workflow_id).describe()
    attrs = {k.name: v for k, v in ((p.key, p.value) for p in d.typed_search_attributes)}
    return {"workflowId": d.id, "runId": d.run_id, "type": d.workflow_type, "status": d.status.name if d.status else "",
            "started": d.start_time.isoformat() if d.start_time else None,
            "closed": d.close_time.isoformat() if d.close_time else None, "taskQueue": d.task_queue,
            "searchAttributes": {k: str(v) for k, v in attrs.items()}, "webUi": _ui_link(d.id, d.run_id)}


async def _history(workflow_id: str) -> list[dict]:
    from google.protobuf.json_format import MessageToDict

    from core.temporal import connect

    client = await connect()
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    out = []
    for event in history.events:
        kind = event.WhichOneof("attributes") or ""
        attrs = MessageToDict(getattr(event, kind)) if kind else {}
        detail = (attrs.get("activityType", {}).get("name") or attrs.get("workflowType", {}).get("name")
                  or attrs.get("failure", {}).get("message") or "")
        out.append({"eventId": event.event_id, "time": event.event_time.ToDatetime().isoformat(),
                    "type": kind.removesuffix("_event_attributes"), "detail": detail})
    return out
