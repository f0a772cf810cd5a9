"""SQL statement spans (core/sql_tracing.py) through the process engine on a real PostgreSQL."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, StatusCode, TraceFlags
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from apis.trace_sources import component_of
from cli.render.trace import span_name
from core.db import get_engine
from core.telemetry import instrument_sqlalchemy

PARAMETER = "6590001234"  # a phone number: parameters are personal data and never reach a span


def _sql_spans(spans, trace_id: int) -> list:
    return [s for s in spans.get_finished_spans()
            if s.context.trace_id == trace_id and (s.attributes or {}).get("db.system")]


async def test_a_statement_in_a_span_gets_a_child_client_span_the_trace_view_labels(db, spans) -> None:
    instrument_sqlalchemy()  # a second call (conftest made the first) must not double the spans
    spans.clear()
    with trace.get_tracer("test").start_as_current_span("outer") as outer:
        async with get_engine().connect() as conn:
            await conn.execute(text("SELECT number FROM inventory.msisdn WHERE number = :n"), {"n": PARAMETER})
    (span,) = _sql_spans(spans, outer.get_span_context().trace_id)
    assert span.name == "SELECT" and span.kind is SpanKind.CLIENT
    assert span.parent.span_id == outer.get_span_context().span_id
    assert dict(span.attributes) == {"db.system": "postgresql", "db.name": db.url.database,
                                     "db.statement": "SELECT number FROM inventory.msisdn WHERE number = $1"}
    assert span.status.status_code is StatusCode.UNSET and span.end_time >= span.start_time
    assert PARAMETER not in repr(dict(span.attributes))
    shown = {"name": span.name, "attributes": dict(span.attributes)}
    assert span_name(shown) == "SELECT inventory.msisdn"
    assert component_of("bss-test", shown["attributes"]) == "postgres"


async def test_a_failing_statement_ends_its_span_with_an_error_status(db, spans) -> None:
    spans.clear()
    with trace.get_tracer("test").start_as_current_span("outer") as outer:
        async with get_engine().connect() as conn:
            with pytest.raises(ProgrammingError):
                await conn.execute(text("SELECT 1 FROM inventory.no_such_table"))
            await conn.rollback()
            await conn.execute(text("SELECT 2"))
    failed, after = _sql_spans(spans, outer.get_span_context().trace_id)
    assert failed.status.status_code is StatusCode.ERROR
    assert "no_such_table" in failed.status.description and failed.end_time is not None
    assert after.status.status_code is StatusCode.UNSET and after.attributes["db.statement"] == "SELECT 2"


async def test_no_span_outside_a_trace_or_in_a_trace_the_sampler_dropped(db, spans) -> None:
    dropped = NonRecordingSpan(SpanContext(0x5EED, 0x1, is_remote=False, trace_flags=TraceFlags(0)))
    spans.clear()
    async with get_engine().connect() as conn:
        await conn.execute(text("SELECT 1"))
        with trace.use_span(dropped):
            await conn.execute(text("SELECT 1"))
    assert [s for s in spans.get_finished_spans() if (s.attributes or {}).get("db.system")] == []
