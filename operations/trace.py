"""Trace operations: one trace, and the traces of an order or a line with the ones to render fetched whole."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.api_error import ApiError
from core.scopes import Scope
from operations.fields import OrderId, SubscriptionId
from operations.registry import Client, Input, operation

OPS = "/ops-api/v1"
TRACE = f"{OPS}/trace"


class GetTrace(Input):
    """Which trace."""

    trace_id: str = Field(pattern=r"^[0-9a-fA-F]{16,32}$", description="Trace id (32 hex characters).")


@operation("trace.get", scope=Scope.OPS_TRACE, routes=[f"GET {TRACE}/{{trace_id}}"], arguments=("trace_id",))
def get(client: Client, args: GetTrace) -> Any:
    """Render one trace: every span, indented by parent, on a time axis."""
    return client.request("GET", f"{TRACE}/{args.trace_id}")


def _traces(client: Client, kind: str, ident: str, pick: str, limit: int) -> dict[str, Any]:
    """The traces of an order or a line, and the documents of those `pick` chooses (first, latest or all)."""
    traces = client.request("GET", f"{OPS}/{kind}/{ident}/traces", params={"limit": limit})
    with_spans = [tr for tr in traces if tr.get("spanCount") != 0]
    if pick == "all":
        chosen = with_spans
    elif pick == "first":
        chosen = with_spans[:1]
    else:  # the trace that wrote last (a line's renewals may extend its activation trace, see the API)
        chosen = sorted(with_spans, key=lambda tr: tr["lastEventAt"] or "")[-1:]
    rendered = []
    for tr in chosen:
        try:
            rendered.append(client.request("GET", f"{TRACE}/{tr['traceId']}"))
        except ApiError as exc:
            if exc.status != 404:  # a trace the span store no longer holds is skipped
                raise
    return {"title": f"traces of {kind} {ident}", "traces": traces, "rendered": rendered}


class OrderTraces(Input):
    """Which order, and how many of its traces to render."""

    order_id: OrderId
    all_traces: bool = Field(default=False, json_schema_extra={"flag": "--all"},
                             description="Render every trace of the order.")


@operation("trace.for_order", scope=Scope.OPS_TRACE,
           routes=[f"GET {OPS}/order/{{order_id}}/traces", f"GET {TRACE}/{{trace_id}}"], arguments=("order_id",))
def for_order(client: Client, args: OrderTraces) -> Any:
    """Render the trace that placed an order: API request, workflow, activities, SQL, gateway, network."""
    return _traces(client, "order", args.order_id, "all" if args.all_traces else "first", 50)


class SubscriptionTraces(Input):
    """Which line, how many of its traces to list, and whether to render them all."""

    subscription_id: SubscriptionId
    all_traces: bool = Field(default=False, json_schema_extra={"flag": "--all"},
                             description="Render every listed trace.")
    limit: int = Field(default=20, ge=1, le=200, description="How many of the latest traces to list.")


@operation("trace.for_subscription", scope=Scope.OPS_TRACE,
           routes=[f"GET {OPS}/subscription/{{subscription_id}}/traces", f"GET {TRACE}/{{trace_id}}"],
           arguments=("subscription_id",))
def for_subscription(client: Client, args: SubscriptionTraces) -> Any:
    """List a line's traces (activation, renewals, top-ups, …) and render the latest (or --all)."""
    return _traces(client, "subscription", args.subscription_id, "all" if args.all_traces else "latest",
                   args.limit)


AGENT_SESSION = "/agent-api/v1/session"


class AskTraces(Input):
    """Which agent session, and how many of its turns to render."""

    session_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", description="Agent session id (SES-…).")
    all_traces: bool = Field(default=False, json_schema_extra={"flag": "--all"},
                             description="Render every turn's trace (default: the latest turn's).")


def _session_traces(session: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per trace of a session (one trace per turn): when it ran and what it called, in order."""
    traces: dict[str, dict[str, Any]] = {}
    for entry in session.get("transcript", []):
        trace_id = entry.get("traceId")
        if not trace_id:
            continue
        row = traces.setdefault(trace_id, {"traceId": trace_id, "firstEventAt": entry.get("at"),
                                           "lastEventAt": entry.get("at"), "events": [], "spanCount": 0})
        row["lastEventAt"] = entry.get("at") or row["lastEventAt"]
        if entry.get("type") == "toolCall":
            row["events"].append(entry["operation"] + (" ✗" if entry.get("error") else ""))
        elif entry.get("type") == "turn" and not row["events"]:
            row["events"].append("answered without a tool call")
    return list(traces.values())


@operation("trace.for_ask", scope=Scope.OPS_TRACE,
           routes=[f"GET {AGENT_SESSION}/{{session_id}}", f"GET {TRACE}/{{trace_id}}"], arguments=("session_id",))
def for_ask(client: Client, args: AskTraces) -> Any:
    """Render the trace of an agent session's latest turn (or --all): the agent's tool calls and what each reached."""
    session = client.request("GET", f"{AGENT_SESSION}/{args.session_id}")
    traces = _session_traces(session)
    documents = []
    for tr in traces:  # a session has a few turns: each trace is fetched for its span count
        try:
            document = client.request("GET", f"{TRACE}/{tr['traceId']}")
        except ApiError as exc:
            if exc.status != 404:  # a turn whose spans were not kept is listed, not rendered
                raise
            continue
        tr["spanCount"] = document.get("spanCount", len(document.get("spans") or []))
        documents.append(document)
    rendered = documents if args.all_traces else documents[-1:]
    return {"title": f"traces of agent session {args.session_id}", "traces": traces, "rendered": rendered}
