"""A span exporter that writes finished spans into PostgreSQL (`audit.span`).

`BatchSpanProcessor` calls `export` from its own thread, so the exporter owns a private event
loop and one asyncpg connection; a failed batch is dropped with a log line, never retried in
a loop that could stall the process.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import logging
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

log = logging.getLogger(__name__)

# One statement per batch (columns as arrays): `executemany` costs a Bind/Execute per span, which
# made the exporter thread ~10 % of the API's CPU under load.
_INSERT = """
INSERT INTO audit.span (trace_id, span_id, parent_span_id, name, service, kind, start_time, end_time,
                        duration_us, status_code, status_message, attributes)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
                     $8::timestamptz[], $9::bigint[], $10::text[], $11::text[], $12::jsonb[])
ON CONFLICT DO NOTHING
"""


def _ts(ns: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ns / 1e9, tz=_dt.timezone.utc)


def span_row(span: ReadableSpan) -> tuple:
    """Flatten a finished span into the column values of `audit.span`."""
    ctx = span.get_span_context()
    parent = span.parent
    attrs = {k: (v if isinstance(v, (str, int, float, bool)) else list(v))
             for k, v in (span.attributes or {}).items()}
    service = str(span.resource.attributes.get("service.name", "unknown"))
    start, end = span.start_time or 0, span.end_time or span.start_time or 0
    return (
        format(ctx.trace_id, "032x"), format(ctx.span_id, "016x"),
        format(parent.span_id, "016x") if parent else None,
        span.name, service, span.kind.name.lower(), _ts(start), _ts(end), (end - start) // 1000,
        span.status.status_code.name.lower(), span.status.description, json.dumps(attrs, default=str),
    )


class PostgresSpanExporter(SpanExporter):
    """Export spans to the span store of the stack's own database."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        rows = [span_row(s) for s in spans]
        try:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._write(rows))
            return SpanExportResult.SUCCESS
        except Exception as exc:  # the span store must never take the process down
            log.warning("span store export failed (%d spans dropped): %s", len(rows), exc)
            self._conn = None
            return SpanExportResult.FAILURE

    async def _write(self, rows: list[tuple]) -> None:
        import asyncpg

        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self._dsn, server_settings={"application_name": "bss-spans"})
        await self._conn.execute(_INSERT, *(list(column) for column in zip(*rows)))

    def shutdown(self) -> None:
        if self._loop is not None:
            if self._conn is not None and not self._conn.is_closed():
                self._loop.run_until_complete(self._conn.close())
            self._loop.close()
            self._loop = None
