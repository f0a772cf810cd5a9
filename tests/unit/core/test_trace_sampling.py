"""Tail sampling of reads with the real OpenTelemetry SDK: what is exported, and what is not."""

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from core.trace_sampling import ReadTailSampler


def tracing(keep_ratio: float, slow_ms: int = 100):
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(ReadTailSampler(SimpleSpanProcessor(exported), keep_ratio, slow_ms))
    return provider.get_tracer("test"), exported


def request(tracer, method: str, status: int, *, child_error: bool = False, took_ms: int = 1) -> int:
    """One server span like FastAPI's (method at start, status at the end) with a SQL child; its trace id."""
    root = tracer.start_span(method, kind=SpanKind.SERVER, attributes={"http.request.method": method},
                             start_time=0)
    with trace.use_span(root, end_on_exit=False):
        with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT) as child:
            if child_error:
                child.set_status(StatusCode.ERROR)
    root.set_attribute("http.response.status_code", status)
    root.end(end_time=took_ms * 1_000_000)
    return root.get_span_context().trace_id


def names(exported) -> list[str]:
    return [s.name for s in exported.get_finished_spans()]


def test_a_quick_successful_read_is_dropped_with_its_children():
    tracer, exported = tracing(keep_ratio=0)
    request(tracer, "GET", 200)
    request(tracer, "HEAD", 304)
    assert names(exported) == []


def test_failed_erroring_and_slow_reads_are_kept_whole():
    tracer, exported = tracing(keep_ratio=0, slow_ms=100)
    request(tracer, "GET", 404)
    request(tracer, "GET", 200, child_error=True)
    request(tracer, "GET", 200, took_ms=150)
    assert names(exported) == ["SELECT", "GET"] * 3


def test_writes_pass_straight_through():
    tracer, exported = tracing(keep_ratio=0)
    request(tracer, "POST", 201)
    assert names(exported) == ["SELECT", "POST"]


def test_one_read_in_n_is_kept_by_trace_id_so_every_process_agrees():
    tracer, exported = tracing(keep_ratio=0.25)
    ids = [request(tracer, "GET", 200) for _ in range(200)]
    kept = {s.context.trace_id for s in exported.get_finished_spans()}
    assert kept == {t for t in ids if t % 4 == 0}
    assert 20 <= len(kept) <= 80  # about a quarter, whatever the random ids


def test_spans_of_a_read_that_never_ended_do_not_leak_into_other_traces():
    tracer, exported = tracing(keep_ratio=0)
    open_read = tracer.start_span("GET", kind=SpanKind.SERVER, attributes={"http.request.method": "GET"})
    request(tracer, "POST", 201)
    assert names(exported) == ["SELECT", "POST"]
    open_read.end()
