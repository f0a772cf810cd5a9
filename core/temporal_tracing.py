"""Temporal tracing where a request's writes stay in the request's trace.

Temporal's `TracingInterceptor` runs every signal and update handler under the context the
workflow was *started* with and only links the caller. For a line's workflow (started by the order
that activated it) that put every top-up, plan change and termination — their activities, SQL and
gateway calls — into the order's trace, while the HTTP request that asked for them ended at its
`StartWorkflowUpdate`. Here a handler that arrives with a caller's context runs under it (the
workflow's own trace is linked instead), so one request is one trace from HTTP to SQL.

Tracing is a side effect only: spans are not emitted on replay and headers are not part of the
history's determinism checks, so this changes no workflow's behaviour.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import opentelemetry.context
import opentelemetry.trace
from temporalio import worker
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor


class _RequestScopedHandlers(TracingWorkflowInboundInterceptor):
    """Run update and signal handlers under the caller's trace when the caller sent one."""

    @contextmanager
    def _caller_context(self, headers: Any, span_name: str) -> Iterator[bool]:
        header = headers.get(self.header_key)
        if not header:
            yield False
            return
        carrier = self.payload_converter.from_payloads([header])[0]
        context = self._set_on_context(self.text_map_propagator.extract(carrier))
        token = opentelemetry.context.attach(context)
        try:
            self._completed_span(span_name, link_context_carrier=self._load_workflow_context_carrier(),
                                 kind=opentelemetry.trace.SpanKind.SERVER)
            yield True
        finally:
            opentelemetry.context.detach(token)

    async def handle_update_handler(self, input: worker.HandleUpdateInput) -> Any:
        with self._caller_context(input.headers, f"HandleUpdate:{input.update}") as scoped:
            if scoped:
                return await worker.WorkflowInboundInterceptor.handle_update_handler(self, input)
        return await super().handle_update_handler(input)

    async def handle_signal(self, input: worker.HandleSignalInput) -> None:
        with self._caller_context(input.headers, f"HandleSignal:{input.signal}") as scoped:
            if scoped:
                await worker.WorkflowInboundInterceptor.handle_signal(self, input)
                return
        await super().handle_signal(input)


class BssTracingInterceptor(TracingInterceptor):
    """Temporal's tracing interceptor with request-scoped update and signal handlers."""

    def workflow_interceptor_class(
        self, input: worker.WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        """Register the span extern as the base class does, then use our workflow interceptor."""
        super().workflow_interceptor_class(input)
        return _RequestScopedHandlers
