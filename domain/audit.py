"""Audit schema: the domain event log and the span store."""

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, Table, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB

from domain.metadata import metadata

domain_event = Table(
    "domain_event", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("event_type", Text, nullable=False),
    Column("aggregate_type", Text, nullable=False),
    Column("aggregate_id", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("service_identity", Text, nullable=False),
    Column("trace_id", Text),
    Column("payload", JSONB, nullable=False, server_default="{}"),
    # The agent session a row was written in (`X-BSS-Session` on an agent's call; migration 0017).
    Column("session_id", Text),
    Index("ix_domain_event_aggregate", "aggregate_type", "aggregate_id"),
    Index("ix_domain_event_trace", "trace_id"),
    Index("ix_domain_event_session", "session_id", postgresql_where=text("session_id IS NOT NULL")),
    schema="audit",
)

span = Table(
    "span", metadata,
    Column("trace_id", Text, primary_key=True),
    Column("span_id", Text, primary_key=True),
    Column("parent_span_id", Text),
    Column("name", Text, nullable=False),
    Column("service", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("start_time", DateTime(timezone=True), nullable=False),
    Column("end_time", DateTime(timezone=True), nullable=False),
    Column("duration_us", BigInteger, nullable=False),
    Column("status_code", Text, nullable=False),
    Column("status_message", Text),
    Column("attributes", JSONB, nullable=False, server_default="{}"),
    Index("ix_span_start_time", "start_time"),
    schema="audit",
)

# Stack-wide scenario-time offset (DESIGN.md §6); one row, dev only.
clock_offset = Table(
    "clock_offset", metadata,
    Column("id", Integer, primary_key=True),
    Column("offset_seconds", BigInteger, nullable=False, server_default="0"),
    schema="audit",
)
