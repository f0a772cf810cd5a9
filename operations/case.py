"""Case operations: open, list, show, note, move, assign, close and cancel customer cases (`/crm-api/v1/case`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from core.scopes import Scope
from operations.fields import CUSTOMER_ID, CaseId, CustomerId
from operations.registry import Client, Input, operation

CASE = "/crm-api/v1/case"
Priority = Literal["low", "medium", "high", "critical"]


class OpenCase(Input):
    """A case to open for a customer."""

    customer_id: CustomerId
    title: str = Field(min_length=1, max_length=200, description="What the case is about.")
    priority: Priority = Field(default="medium", description="low | medium | high | critical.")
    description: str | None = Field(default=None, max_length=4000, description="Longer description.")
    category: str | None = Field(default=None, max_length=100, description="Category, e.g. billing.")


@operation("case.open", scope=Scope.CASE_WRITE, routes=[f"POST {CASE}"], arguments=("customer_id",))
def open_(client: Client, args: OpenCase) -> Any:
    """Open a case for a customer."""
    body = {"customerId": args.customer_id, "title": args.title, "priority": args.priority,
            "description": args.description, "category": args.category}
    return client.request("POST", CASE, json={k: v for k, v in body.items() if v is not None})


class ListCases(Input):
    """Filters of the case list."""

    customer_id: str | None = Field(default=None, pattern=CUSTOMER_ID, description="Only this customer's cases.",
                                   json_schema_extra={"flag": "--customer"})
    state: Literal["open", "in_progress", "pending_customer", "resolved", "closed"] | None = Field(
        default=None, description="Only cases in this state: open|in_progress|pending_customer|resolved|closed.")
    priority: Priority | None = Field(default=None, description="Only cases of this priority.")
    limit: int = Field(default=100, ge=1, le=1000, description="At most this many cases.")


@operation("case.list", scope=Scope.CASE_READ, routes=[f"GET {CASE}"], result="list")
def list_(client: Client, args: ListCases) -> Any:
    """List cases, newest last."""
    return client.request("GET", CASE, params={"customerId": args.customer_id, "state": args.state,
                                               "priority": args.priority, "limit": args.limit})


class ShowCase(Input):
    """Which case."""

    case_id: CaseId


@operation("case.show", scope=Scope.CASE_READ, routes=[f"GET {CASE}/{{case_id}}"], arguments=("case_id",))
def show(client: Client, args: ShowCase) -> Any:
    """Show a case card with its notes and tickets."""
    return client.request("GET", f"{CASE}/{args.case_id}")


class NoteCase(Input):
    """A note to add to a case."""

    case_id: CaseId
    text: str = Field(min_length=1, max_length=4000, description="The note.")


@operation("case.note", scope=Scope.CASE_WRITE, routes=[f"POST {CASE}/{{case_id}}/note"],
           arguments=("case_id", "text"))
def note(client: Client, args: NoteCase) -> Any:
    """Add a note to a case."""
    return client.request("POST", f"{CASE}/{args.case_id}/note", json={"text": args.text})


class MoveCase(Input):
    """The state a case moves to."""

    case_id: CaseId
    state: Literal["in_progress", "pending_customer", "resolved"] = Field(
        description="in_progress | pending_customer | resolved.")


@operation("case.transition", scope=Scope.CASE_MANAGE, routes=[f"PATCH {CASE}/{{case_id}}"],
           arguments=("case_id", "state"))
def transition(client: Client, args: MoveCase) -> Any:
    """Move a case to another state (closing goes through `case close`)."""
    return client.request("PATCH", f"{CASE}/{args.case_id}", json={"state": args.state})


class AssignCase(Input):
    """Who works a case."""

    case_id: CaseId
    agent: str = Field(pattern=r"^AG-[A-Z0-9-]+$", description="Agent id (AG-…).")


@operation("case.assign", scope=Scope.CASE_MANAGE, routes=[f"PATCH {CASE}/{{case_id}}"],
           arguments=("case_id", "agent"))
def assign(client: Client, args: AssignCase) -> Any:
    """Assign a case to an agent."""
    return client.request("PATCH", f"{CASE}/{args.case_id}", json={"assignedAgent": {"id": args.agent}})


class CloseCase(Input):
    """How a case was resolved."""

    case_id: CaseId
    resolution: str = Field(min_length=1, max_length=100, description="Resolution code, e.g. FIXED.")
    notes: str | None = Field(default=None, max_length=4000, description="What was done.")


@operation("case.close", scope=Scope.CASE_MANAGE, routes=[f"POST {CASE}/{{case_id}}/close"], destructive=True,
           arguments=("case_id",), confirm="Close {case_id} as {resolution}? A closed case cannot change.",
           declined="not closed")
def close(client: Client, args: CloseCase) -> Any:
    """Close a case with a resolution (every ticket of it must be resolved)."""
    body = {"resolutionCode": args.resolution, **({"notes": args.notes} if args.notes else {})}
    return client.request("POST", f"{CASE}/{args.case_id}/close", json=body)


class CancelCase(Input):
    """Which case is cancelled, and why."""

    case_id: CaseId
    reason: str = Field(min_length=1, max_length=1000, description="Why the case is cancelled.")


@operation("case.cancel", scope=Scope.CASE_MANAGE, routes=[f"POST {CASE}/{{case_id}}/cancel"], destructive=True,
           arguments=("case_id",), confirm="Cancel {case_id}? A cancelled case cannot change.",
           declined="not cancelled")
def cancel(client: Client, args: CancelCase) -> Any:
    """Cancel a case (it is closed, flagged cancelled)."""
    return client.request("POST", f"{CASE}/{args.case_id}/cancel", json={"reason": args.reason})
