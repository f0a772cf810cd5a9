"""One CLIENT span per SQL statement our SQLAlchemy engines run, at the least cost per statement.

It replaces the contrib SQLAlchemy instrumentation, whose hook tokenised every statement, gathered
a dozen attributes from the URL and the cursor and wrapped every engine, ≈ 0.5 ms a statement even
when nothing was recorded. Here three listeners sit on the `Engine` class (engines made before or
after are covered alike), do nothing outside a recording span (no trace, or a trace the sampler
dropped), and name the span from a cache keyed by the statement text: SQLAlchemy's compiled
strings are stable, so an order's statements are each parsed once per process.

A span carries what `bss trace` reads and no more: its name is the statement's first word
(`SELECT`, as the contrib instrumentation named it; the trace view adds the table from the
statement), `db.system` puts it in the swimlane's `postgres` column, `db.statement` is the text
with its `$n` placeholders, `db.name` the database. Never the parameters: they carry personal data.
Pool checkouts get no span (they only ever said "a connection was handed out").
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.engine import Engine

_current_span = trace.get_current_span
# The span rides on SQLAlchemy's per-statement execution context, under a name of our own.
_SPAN = "_bss_sql_span"
_LEADING_COMMENT = re.compile(r"\s*/\*.*?\*/", re.DOTALL)


@lru_cache(maxsize=1)
def _tracer() -> trace.Tracer:
    # Asked for when the first span is recorded, so it is the installed provider's own tracer and
    # not the proxy a module-level `get_tracer` returns before `setup_tracing` ran.
    return trace.get_tracer("bss.sql")


@lru_cache(maxsize=4096)
def span_name(statement: str) -> str:
    """The span name of `statement`: its first word after any leading comment (`SELECT`, `INSERT`)."""
    words = _LEADING_COMMENT.sub("", statement, count=1).split(None, 1)
    return words[0] if words else "SQL"


def _before_cursor_execute(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                           executemany: bool) -> tuple[str, Any]:
    if context is not None and _current_span().is_recording():
        context.__dict__[_SPAN] = _tracer().start_span(
            span_name(statement), kind=SpanKind.CLIENT,
            attributes={"db.system": conn.dialect.name, "db.name": conn.engine.url.database or "",
                        "db.statement": statement})
    return statement, parameters


def _after_cursor_execute(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                          executemany: bool) -> None:
    # Popped, so an error raised later in the same execution cannot end the span a second time.
    if context is not None and (span := context.__dict__.pop(_SPAN, None)) is not None:
        span.end()


def _handle_error(exception_context: Any) -> None:
    context = exception_context.execution_context
    if context is not None and (span := context.__dict__.pop(_SPAN, None)) is not None:
        span.set_status(Status(StatusCode.ERROR, str(exception_context.original_exception)))
        span.end()


_LISTENERS = (("before_cursor_execute", _before_cursor_execute, {"retval": True}),
              ("after_cursor_execute", _after_cursor_execute, {}),
              ("handle_error", _handle_error, {}))


def instrument() -> None:
    """Trace every statement of every engine of this process (idempotent)."""
    for name, listener, options in _LISTENERS:
        if not event.contains(Engine, name, listener):
            event.listen(Engine, name, listener, **options)


def uninstrument() -> None:
    """Stop tracing statements (benchmarks compare with and without)."""
    for name, listener, _ in _LISTENERS:
        if event.contains(Engine, name, listener):
            event.remove(Engine, name, listener)
