"""Audit schema: the domain event log and the span store."""

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, Table, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import UserDefinedType

from domain.metadata import metadata


class Xid8(UserDefinedType):
    """PostgreSQL's 64-bit transaction id (`xid8`), read as an int."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        """The column type's SQL name."""
        return "xid8"


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
    # The writing transaction (migration 0027): the event plane reads the log in (txid, id) order up to the
    # oldest running transaction (activities/event_delivery.py). Never set by a writer: the default is it.
    Column("txid", Xid8(), nullable=False, server_default=text("pg_current_xact_id()")),
    Index("ix_domain_event_txid_id", "txid", "id"),
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
