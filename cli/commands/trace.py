"""`bss trace`: where the time of an order, a line or any request went, as an ASCII swimlane."""

from __future__ import annotations

from typing import Any

import typer

TRACE = "/ops-api/v1/trace/{}"
TRACES_OF = {"order": "/ops-api/v1/order/{}/traces", "subscription": "/ops-api/v1/subscription/{}/traces"}


def _with_spans(client: Any, traces: list[dict[str, Any]], chosen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fetch the trace documents of `chosen` (skipping traces the store holds no span of)."""
    from core.api_client import ApiError

    docs = []
    for tr in chosen:
        if tr.get("spanCount") == 0:
            continue
        try:
            docs.append(client.get(TRACE.format(tr["traceId"])))
        except ApiError as exc:
            if exc.status != 404:
                raise
    return docs


def _for(kind: str, ident: str, pick: str, limit: int, as_json: bool) -> None:
    from cli.output import api_errors, emit
    from cli.render.trace import traces_view
    from core.api_client import BssClient

    with api_errors(as_json), BssClient() as client:
        traces = client.get(TRACES_OF[kind].format(ident), limit=limit)
        with_spans = [tr for tr in traces if tr.get("spanCount") != 0]
        if pick == "all":
            chosen = traces
        elif pick == "first":
            chosen = with_spans[:1]
        else:  # the trace that wrote last (a line's renewals may extend its activation trace, see the API)
            chosen = sorted(with_spans, key=lambda tr: tr["lastEventAt"] or "")[-1:]
        data = {"title": f"traces of {kind} {ident}", "traces": traces,
                "rendered": _with_spans(client, traces, chosen)}
    emit(data, as_json, traces_view)


def register(app: typer.Typer) -> None:
    """Add the `trace` group to `app`."""
    group = typer.Typer(help="Distributed traces as ASCII swimlanes (span store, or Jaeger when configured).",
                        no_args_is_help=True)
    app.add_typer(group, name="trace")

    @group.command("get")
    def get(trace_id: str = typer.Argument(..., help="Trace id (32 hex characters)."),
            as_json: bool = typer.Option(False, "--json", help="Print the API's JSON.")) -> None:
        """Render one trace: every span, indented by parent, on a time axis."""
        from cli.output import api_errors, emit
        from cli.render.trace import Swimlane
        from core.api_client import BssClient

        with api_errors(as_json), BssClient() as client:
            doc = client.get(TRACE.format(trace_id))
        emit(doc, as_json, Swimlane)

    @group.command("for-order")
    def for_order(order_id: str = typer.Argument(..., help="Order id (ORD-…)."),
                  all_traces: bool = typer.Option(False, "--all", help="Render every trace of the order."),
                  as_json: bool = typer.Option(False, "--json", help="Print the API's JSON.")) -> None:
        """Render the trace that placed an order: API request, workflow, activities, SQL, gateway, network."""
        _for("order", order_id, "all" if all_traces else "first", 50, as_json)

    @group.command("for-subscription")
    def for_subscription(subscription_id: str = typer.Argument(..., help="Subscription id (SUB-…)."),
                         all_traces: bool = typer.Option(False, "--all", help="Render every listed trace."),
                         limit: int = typer.Option(20, "--limit", help="How many of the latest traces to list."),
                         as_json: bool = typer.Option(False, "--json", help="Print the API's JSON.")) -> None:
        """List a line's traces (activation, renewals, top-ups, …) and render the latest (or --all)."""
        _for("subscription", subscription_id, "all" if all_traces else "latest", limit, as_json)
