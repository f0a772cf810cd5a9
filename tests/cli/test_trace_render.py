"""The trace swimlane from a fixed span set: snapshot, narrow terminals, colour that degrades, Jaeger's shape."""

from __future__ import annotations

import io

from rich.console import Console

from apis.trace_sources import parse_jaeger
from cli.render.trace import Swimlane, duration, span_name, traces_view
from tests.support.snapshots import assert_snapshot, render_text
from tests.support.trace_fixture import SPANS, TRACE_ID, document, jaeger_body


def test_swimlane_of_an_order_with_a_retried_network_task():
    assert_snapshot("trace_swimlane_order_retry", Swimlane(document()))


def test_header_counts_time_spans_services_and_errors():
    header = render_text(Swimlane(document())).splitlines()[0]
    assert header == f"trace {TRACE_ID}  1.20 s  15 spans  5 services  2 errors"


def test_rows_are_indented_under_their_parent_and_errors_are_marked_without_colour():
    lines = render_text(Swimlane(document())).splitlines()
    rows = lines[3:18]
    assert rows[0].startswith("POST /tmf-api/productOrderingManagement")
    assert any(r.startswith("         └─ ✗ HLR HLR_PROVISION") and "HLR" in r for r in rows)
    assert any(r.startswith("         └─ HLR HLR_PROVISION") for r in rows)  # the retry, no mark
    assert lines[-1].startswith("✗ HLR HLR_PROVISION: HLR rejected HLR_PROVISION on attempt 1")


def test_bars_sit_on_the_time_axis():
    lines = render_text(Swimlane(document()), 120).splitlines()
    axis, rows = lines[2], lines[3:18]
    start, end = axis.index("0"), len(axis)  # the axis spans the bar column: 0 … total
    request, retry, done = rows[0], rows[12], rows[14]
    assert request.index("█") == start                      # the request opens the trace
    assert done.index("▏") >= end - len(" 1.20 s") - 1     # the workflow completes at its end
    # The retry starts at 950 ms of 1200: about 79 % along the axis.
    assert abs((retry.index("█") - start) / (end - start) - 950 / 1200) < 0.05


def test_a_narrow_terminal_keeps_every_row_on_one_line():
    lines = render_text(Swimlane(document()), width=60).splitlines()
    rows = [line for line in lines if line.endswith(" ms") and not line.startswith(("trace", "✗"))]
    assert len(rows) == 15 and all(len(line) <= 60 for line in rows)
    assert rows[-1].startswith("   └─ CompleteWorkflo") and rows[-1].endswith("0.0 ms")


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    def render(**kw: object) -> str:
        out = io.StringIO()
        Console(file=out, width=100, **kw).print(Swimlane(document()))
        return out.getvalue()

    assert "\x1b[31" in render(force_terminal=True, color_system="standard")  # errors in red
    assert "\x1b[" not in render(force_terminal=False)                         # piped
    monkeypatch.setenv("NO_COLOR", "1")
    coloured = render(force_terminal=True, color_system="standard")
    assert "\x1b[31" not in coloured and "\x1b[36" not in coloured


def test_sql_spans_name_their_first_table_and_durations_read_well():
    assert span_name(SPANS[1]) == "SELECT catalog.product_offering"
    assert span_name(SPANS[3]) == "StartWorkflow:OrderWorkflow"
    assert [duration(us) for us in (0, 400, 12_345, 1_234_567)] == ["0.0 ms", "0.4 ms", "12 ms", "1.23 s"]


def test_jaeger_answer_normalises_to_the_span_store_shape():
    assert parse_jaeger(jaeger_body()) == sorted(SPANS, key=lambda s: s["startUs"])
    assert parse_jaeger({"data": [], "errors": [{"code": 404, "msg": "trace not found"}]}) == []


def test_trace_list_names_each_trace_and_what_it_wrote():
    text = render_text(traces_view({"title": "traces of subscription SUB-000001", "rendered": [], "traces": [
        {"traceId": TRACE_ID, "firstEventAt": "2026-11-27T05:00:00Z", "lastEventAt": "2026-11-27T05:00:01Z",
         "events": ["subscription.activated"], "spanCount": 0},
        {"traceId": "b" * 32, "firstEventAt": "2026-12-27T05:00:00Z", "lastEventAt": "2026-12-27T05:00:00Z",
         "events": ["subscription.renewed", "subscription.balance_reset"], "spanCount": None}]}))
    assert f"{TRACE_ID}  2026-11-27T05:00:00    0 spans  subscription.activated" in text
    assert "in Jaeger  subscription.renewed +1 more" in text
    assert "no spans are stored for these traces" in text
