"""OpenTelemetry bootstrap for every process: tracer provider, instrumentation, exporters.

Spans go to the PostgreSQL span store (`audit.span`) by default — the embedded stack has no
Jaeger — and additionally to OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. `bss trace`
reads the same spans, so the terminal swimlane and Jaeger never disagree.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from core.settings import Settings, get_settings

log = logging.getLogger(__name__)
_provider: TracerProvider | None = None


def setup_tracing(service_name: str, settings: Settings | None = None,
                  extra_exporters: list[SpanExporter] | None = None) -> TracerProvider:
    """Install the process tracer provider once; later calls return the same provider."""
    global _provider
    if _provider is not None:
        for exporter in extra_exporters or []:
            _provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=200))
        return _provider
    settings = settings or get_settings()
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name}),
        sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
    )
    exporters: list[SpanExporter] = list(extra_exporters or [])
    if settings.span_store_enabled:
        from core.span_store import PostgresSpanExporter

        exporters.append(PostgresSpanExporter(settings.asyncpg_dsn()))
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporters.append(OTLPSpanExporter(endpoint=settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"))
    for exporter in exporters:
        # A short delay keeps `bss trace` fresh right after a request without costing throughput.
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=200,
                                                       max_export_batch_size=512))
    trace.set_tracer_provider(provider)
    _provider = provider
    return provider


def force_flush(timeout_millis: int = 5000) -> bool:
    """Export every finished span now (tests, shutdown)."""
    return _provider.force_flush(timeout_millis) if _provider else True


def shutdown_tracing() -> None:
    """Flush and stop the exporters."""
    if _provider is not None:
        _provider.shutdown()


def current_trace_id() -> str | None:
    """Return the hex trace id of the active span, or None outside a trace."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


# Calls to systems outside our process (payment gateway, network elements) get one client span each,
# named by the peer, so a trace shows them as their own components (`peer.service`, as Jaeger does).
_external = trace.get_tracer("bss.external")


@contextmanager
def external_call(peer: str, operation: str, refusals: tuple[type[Exception], ...] = (),
                  **attributes: str | int) -> Iterator[Span]:
    """Trace one call to an outside system `peer`; an exception marks it failed unless it is a refusal."""
    with _external.start_as_current_span(f"{peer} {operation}", kind=SpanKind.CLIENT,
                                         attributes={"peer.service": peer, **attributes},
                                         record_exception=False, set_status_on_exception=False) as span:
        try:
            yield span
        except refusals as exc:  # the system answered "no": an answer, not a failure of the call
            span.set_attribute("bss.refusal", type(exc).__name__)
            raise
        except Exception as exc:
            span.record_exception(exc)
            mark_error(span, f"{type(exc).__name__}: {exc}")
            raise


def mark_error(span: Span, message: str) -> None:
    """Mark `span` as failed with `message` (an answer that is an error without an exception)."""
    span.set_status(Status(StatusCode.ERROR, message))


def instrument_sqlalchemy() -> None:
    """Trace every SQL statement of every engine of this process (idempotent; see core/sql_tracing.py)."""
    from core.sql_tracing import instrument

    instrument()


def instrument_httpx() -> None:
    """Trace (and propagate context on) every outgoing httpx request."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().instrument()
