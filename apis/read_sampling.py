"""Read sampling: most successful quick reads are never traced; failed and slow ones still are.

A GET that answered 2xx/3xx quickly is the trace nobody opens, and tracing it costs a cheap read
a third of its CPU before anything is exported: the server span with its attributes, the context
switches, a span per statement. So a root read (GET/HEAD without an incoming `traceparent`) is
traced only 1 time in 1/`keep_ratio`; the others skip FastAPI's telemetry entirely and run under
a parent that is not sampled, so nothing below them records a span either. If such a read fails
(status ≥ 400, or an exception) or takes longer than `slow_ms`, one server span is written for it
after the fact, with its real start and end, route, status and error. Its statements are not
in it: they were never recorded. Writes, workflows and reads that continue a caller's trace are
traced as before.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.clock import instrument_ns

READ_METHODS = ("GET", "HEAD")
TRACEPARENT = b"traceparent"
# Set on the scope of a read left out of tracing; the middleware below picks it up.
UNSAMPLED = "bss.read_unsampled"
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)
_tracer = trace.get_tracer("bss.api.reads")


@dataclass(frozen=True)
class ReadSampling:
    """Which reads are traced in full: 1 in 1/`keep_ratio` (0: none, 1: all)."""

    keep_ratio: float
    slow_ms: int = 100

    def leave_out(self, scope: Scope) -> bool:
        """True for a root read this process will not trace; marks its scope for `UnsampledReads`."""
        if scope.get("method") not in READ_METHODS or self.keep_ratio >= 1:
            return False
        if any(name == TRACEPARENT for name, _ in scope["headers"]):
            return False  # the caller's trace decides, as for any other request
        if self.keep_ratio > 0 and random.random() < self.keep_ratio:
            return False
        scope[UNSAMPLED] = True
        return True


class UnsampledReads:
    """Run a read left out of tracing under a non-sampled parent; trace it after the fact if it failed or was slow."""

    def __init__(self, app: ASGIApp, sampling: ReadSampling) -> None:
        self.app = app
        self.slow_ns = sampling.slow_ms * 1_000_000

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not scope.get(UNSAMPLED):
            await self.app(scope, receive, send)
            return
        started = instrument_ns()
        status = 0

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        # A valid but not-sampled parent: everything below (SQL, Temporal, outside calls) is dropped
        # by the parent-based sampler instead of starting a new root trace of its own.
        parent = NonRecordingSpan(SpanContext(random.getrandbits(128) or 1, random.getrandbits(64) or 1,
                                              is_remote=False, trace_flags=_NOT_SAMPLED))
        token = otel_context.attach(trace.set_span_in_context(parent))
        try:
            await self.app(scope, receive, capture)
        except Exception as exc:  # a cancellation (shutdown, client gone) is not the read failing
            _trace_after_the_fact(scope, started, status or 500, exc)
            raise
        finally:
            otel_context.detach(token)
        if status >= 400 or instrument_ns() - started > self.slow_ns:
            _trace_after_the_fact(scope, started, status, None)


def _trace_after_the_fact(scope: Scope, started: int, status: int, error: BaseException | None) -> None:
    """Write the server span an unsampled read would have had: route, status, error, real times."""
    route = getattr(scope.get("route"), "path", None)
    attributes: dict[str, Any] = {"http.request.method": scope["method"], "url.path": scope["path"],
                                  "http.response.status_code": status, "bss.read_traced_after": True}
    if route:
        attributes["http.route"] = route
    if error is not None:
        attributes["error.type"] = type(error).__qualname__
    # A new root: the request's own parent was never recorded, so there is nothing to attach it to.
    # Named like FastAPI names its spans: by route, or by the method alone when no route matched.
    span = _tracer.start_span(f"{scope['method']} {route}" if route else scope["method"], context=otel_context.Context(),
                              kind=SpanKind.SERVER, attributes=attributes, start_time=started)
    if error is not None:
        span.record_exception(error)
    if error is not None or status >= 500:
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}" if error else str(status)))
    span.end()
