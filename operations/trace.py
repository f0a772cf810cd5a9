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
