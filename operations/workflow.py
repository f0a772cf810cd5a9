"""Workflow operations: what Temporal is running, through `/ops-api/v1/workflow…` (lists, stuck orders, histories)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from core.scopes import Scope
from operations.registry import Client, Input, operation

WORKFLOW = "/ops-api/v1/workflow"
WorkflowId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$",
                                  description="Workflow id, e.g. order-ORD-000042.")]


class ListWorkflows(Input):
    """Filters of the workflow list."""

    query: str | None = Field(default=None, max_length=1000, description="Temporal visibility query.")
    type: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]*$",
                             description="Workflow type, e.g. OrderWorkflow.")
    status: Literal["running", "completed", "failed", "canceled", "terminated", "continued_as_new",
                    "timed_out"] | None = Field(
        default=None, description="running|completed|failed|canceled|terminated|continued_as_new|timed_out")
    customer_id: str | None = Field(default=None, pattern=r"^CUST-\d+$", json_schema_extra={"flag": "--customer"},
                                    description="Only workflows of this customer (CUST-…).")
    order_id: str | None = Field(default=None, pattern=r"^ORD-\d+$", json_schema_extra={"flag": "--order"},
                                 description="Only the workflow of this order (ORD-…).")
    limit: int = Field(default=20, ge=1, le=1000, description="How many.")


@operation("workflow.list", scope=Scope.OPS_TRACE, routes=[f"GET {WORKFLOW}"], result="list")
def list_(client: Client, args: ListWorkflows) -> Any:
    """List workflows (newest first), with their Web UI links in --json."""
    return client.request("GET", WORKFLOW, params={
        "query": args.query, "type": args.type, "status": args.status, "customerId": args.customer_id,
        "orderId": args.order_id, "limit": args.limit})


class StuckWorkflows(Input):
    """No input: the stuck query is the API's."""


@operation("workflow.stuck", scope=Scope.OPS_TRACE, routes=[f"GET {WORKFLOW}/stuck"], result="list")
def stuck(client: Client, args: StuckWorkflows) -> Any:
    """List orders waiting for an operator (a provisioning task is stuck, or an undo failed)."""
    return client.request("GET", f"{WORKFLOW}/stuck")


class ShowWorkflow(Input):
    """Which workflow."""

    workflow_id: WorkflowId


@operation("workflow.show", scope=Scope.OPS_TRACE, routes=[f"GET {WORKFLOW}/{{workflow_id}}"],
           arguments=("workflow_id",))
def show(client: Client, args: ShowWorkflow) -> Any:
    """Describe one workflow: status, search attributes, pending activities, Web UI link."""
    return client.request("GET", f"{WORKFLOW}/{args.workflow_id}")


@operation("workflow.history", scope=Scope.OPS_TRACE, routes=[f"GET {WORKFLOW}/{{workflow_id}}/history"],
           arguments=("workflow_id",))
def history(client: Client, args: ShowWorkflow) -> Any:
    """Print the event history of a workflow (activities, timers, updates)."""
    return client.request("GET", f"{WORKFLOW}/{args.workflow_id}/history")
