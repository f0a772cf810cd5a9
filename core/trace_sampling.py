"""Tail sampling of successful reads: keep every trace that changed something, failed or was slow.

A GET that answered 2xx/3xx quickly is the one trace nobody opens, and at hundreds of reads a
second, exporting each one (rows built under the GIL, inserted into the span store) cost the API a
third of its throughput and its p99. So a trace that starts at a GET/HEAD server span is held in
memory until that span ends, then exported only if it failed (status ≥ 400 or an error span),
took longer than `slow_ms`, or falls in the kept 1-in-N (by trace id, so the choice is the same
in every process). Every other trace — writes, workflows, activities — passes straight through.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanKind, StatusCode

READ_METHODS = ("GET", "HEAD")
MAX_HELD_TRACES = 10_000  # a read whose root never ends (a crash mid-request) must not grow this forever


class ReadTailSampler(SpanProcessor):
    """Forward spans to `downstream`, dropping most traces of successful, quick reads."""

    def __init__(self, downstream: SpanProcessor, keep_ratio: float, slow_ms: int = 100) -> None:
        self._downstream = downstream
        self._keep_every = round(1 / keep_ratio) if keep_ratio > 0 else 0  # 0: keep no successful read
        self._slow_ns = slow_ms * 1_000_000
        self._held: OrderedDict[int, list[ReadableSpan]] = OrderedDict()
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Start holding the trace of a read that begins here."""
        if span.parent is None and span.kind is SpanKind.SERVER and \
                (span.attributes or {}).get("http.request.method") in READ_METHODS:
            with self._lock:
                self._held[span.context.trace_id] = []
                if len(self._held) > MAX_HELD_TRACES:
                    self._held.popitem(last=False)
        self._downstream.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        """Pass the span on, or hold it until its read's root span decides."""
        trace_id = span.context.trace_id
        with self._lock:
            held = self._held.get(trace_id)
            if held is not None and span.parent is not None:
                held.append(span)
                return
            if held is not None:
                del self._held[trace_id]
        if held is None:
            self._downstream.on_end(span)
            return
        if self._keep(span, held):
            for child in held:
                self._downstream.on_end(child)
            self._downstream.on_end(span)

    def _keep(self, root: ReadableSpan, children: list[ReadableSpan]) -> bool:
        status = (root.attributes or {}).get("http.response.status_code")
        failed = not isinstance(status, int) or status >= 400 or any(
            s.status.status_code is StatusCode.ERROR for s in (root, *children))
        slow = (root.end_time or 0) - (root.start_time or 0) > self._slow_ns
        sampled = self._keep_every > 0 and root.context.trace_id % self._keep_every == 0
        return failed or slow or sampled

    def shutdown(self) -> None:
        """Shut the downstream processor down."""
        self._downstream.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the downstream processor (held reads are still in flight: they flush when they end)."""
        return self._downstream.force_flush(timeout_millis)
