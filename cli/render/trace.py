"""The trace swimlane: one row per span, indented by parent, on a time axis as wide as the terminal.

    trace 31949ffe…  1.70 s  214 spans  8 services  0 errors
    POST /tmf-api/…/productOrder     bss-api      ██                          101 ms
       └─ StartWorkflow:OrderWorkflow bss-api      ▐                            30 ms
       └─ RunActivity:payment_charge  bss-worker      █                         30 ms

Errors are red and marked `✗` (the mark survives without colour: NO_COLOR, piped output).
"""

from __future__ import annotations

import math
import re
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.text import Text

# Colours cycle by order of first appearance, so the same trace always renders the same way.
PALETTE = ("cyan", "green", "magenta", "blue", "yellow", "bright_cyan", "bright_green", "bright_magenta",
           "bright_blue", "bright_yellow")
INDENT = "   "
BRANCH = "└─ "
ERROR_MARK = "✗ "
MIN_BAR = 12
DURATION_WIDTH = 8
LABEL_SHARE = 0.42  # of the width, at most, for the span names; the time axis gets the rest
# SQL spans are named by their verb only; the first table they touch says which step it was.
SQL_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+([A-Za-z_][\w.]*)", re.IGNORECASE)


def duration(us: int) -> str:
    """A span duration for people: `1.23 s`, `120 ms`, `4.2 ms`, `0.3 ms`."""
    ms = us / 1000
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 10:
        return f"{ms:.0f} ms"
    return f"{ms:.1f} ms"


def _ordered(spans: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Depth-first rows: children under their parent by start time; orphans are roots."""
    ids = {s["spanId"] for s in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for s in sorted(spans, key=lambda s: (s["startUs"], s["spanId"])):
        parent = s["parentSpanId"] if s["parentSpanId"] in ids else None
        children.setdefault(parent, []).append(s)
    rows: list[tuple[int, dict[str, Any]]] = []
    stack = [(0, s) for s in reversed(children.get(None, []))]
    while stack:
        depth, span = stack.pop()
        rows.append((depth, span))
        stack.extend((depth + 1, c) for c in reversed(children.get(span["spanId"], [])))
    return rows


def span_name(span: dict[str, Any]) -> str:
    """The span's name, with the first table for a bare SQL verb (`SELECT ordering.product_order`)."""
    statement = span.get("attributes", {}).get("db.statement")
    if statement and " " not in span["name"] and (table := SQL_TABLE.search(str(statement))):
        return f"{span['name']} {table.group(1)}"
    return span["name"]


def _label(depth: int, span: dict[str, Any]) -> str:
    mark = ERROR_MARK if span["status"] == "error" else ""
    return (INDENT * (depth - 1) + BRANCH if depth else "") + mark + span_name(span)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _bar(offset_us: int, duration_us: int, total_us: int, width: int) -> str:
    start = min(int(offset_us / total_us * width), width - 1)
    if duration_us == 0:
        return " " * start + "▏"
    end = min(max(math.ceil((offset_us + duration_us) / total_us * width), start + 1), width)
    return " " * start + "█" * (end - start)


class Swimlane:
    """A Rich renderable of one trace document of the API (`GET /ops-api/v1/trace/{id}`)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.rows = _ordered(doc["spans"])
        self.colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(doc["services"])}

    def header(self) -> Text:
        """`trace <id>  <total>  <n> spans  <n> services  <n> errors`, then spans per service."""
        d = self.doc
        errors = d["errorCount"]
        head = Text.assemble(("trace ", "dim"), (d["traceId"], "bold"), "  ", (duration(d["durationUs"]), "bold"),
                             f"  {d['spanCount']} spans  {d['serviceCount']} services  ",
                             (f"{errors} errors", "bold red" if errors else "green"))
        per = Text("  ")
        for i, (name, count) in enumerate(d["services"].items()):
            per.append(("  " if i else "") + name, self.colours[name])
            per.append(f" {count}", "dim")
        return Text("\n").join([head, per])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        svc_w = min(max(len(n) for n in self.doc["services"]), 16)
        label_w = min(max(len(_label(depth, s)) for depth, s in self.rows),
                      max(int(width * LABEL_SHARE), 16), max(width - svc_w - DURATION_WIDTH - MIN_BAR - 3, 8))
        bar_w = max(width - label_w - svc_w - DURATION_WIDTH - 3, 4)
        total = max(self.doc["durationUs"], 1)
        yield self.header()
        axis = f"0{duration(total):>{bar_w - 1}}" if bar_w > len(duration(total)) + 1 else ""
        yield Text(" " * (label_w + svc_w + 2) + axis, style="dim")
        for depth, span in self.rows:
            colour = self.colours.get(span["component"], "white")
            failed = span["status"] == "error"
            row = Text(no_wrap=True, overflow="crop")
            row.append(f"{_fit(_label(depth, span), label_w):<{label_w}} ", "bold red" if failed else "")
            row.append(f"{_fit(span['component'], svc_w):<{svc_w}} ", colour)
            bar = _bar(span["offsetUs"], span["durationUs"], total, bar_w)
            row.append(f"{bar:<{bar_w}}", "red" if failed else colour)
            row.append(f" {duration(span['durationUs']):>{DURATION_WIDTH}}", "bold red" if failed else "dim")
            yield row
        for _depth, span in self.rows:
            if span["status"] == "error":
                yield Text(f"{ERROR_MARK}{span_name(span)}: {span.get('statusMessage') or 'error'}", style="red")


def trace_list(traces: list[dict[str, Any]], title: str) -> RenderableType:
    """The traces of an order or a line, one line each: id, first event time, stored spans, what it wrote."""
    lines = [Text(title, style="bold")]
    for tr in traces:
        spans = "in Jaeger" if tr.get("spanCount") is None else f"{tr['spanCount']} spans"
        more = f" +{len(tr['events']) - 1} more" if len(tr["events"]) > 1 else ""
        lines.append(Text.assemble("  ", (tr["traceId"], "bold"), "  ", ((tr["firstEventAt"] or "")[:19], "dim"),
                                   f"  {spans:>9}  ", tr["events"][0] + more))
    return Group(*lines, Text(""))


def traces_view(data: dict[str, Any]) -> RenderableType:
    """What `bss trace for-order|for-subscription` prints: the list, then each rendered trace."""
    parts: list[RenderableType] = [trace_list(data["traces"], data["title"])]
    parts += [Swimlane(doc) for doc in data["rendered"]]
    if not data["rendered"]:
        parts.append(Text("no spans are stored for these traces (sampled out, or the span store is off)",
                          style="yellow"))
    return Group(*parts)
