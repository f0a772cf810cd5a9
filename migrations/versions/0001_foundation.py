"""Foundation: one schema per domain, id sequences, the audit log and the span store.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from domain.ids import ID_SEQUENCES
from domain.metadata import SCHEMAS

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for schema in SCHEMAS:
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for schema, seq in ID_SEQUENCES.values():
        op.execute(f"CREATE SEQUENCE IF NOT EXISTS {schema}.{seq}")
    op.create_table(
        "domain_event",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("aggregate_type", sa.Text, nullable=False),
        sa.Column("aggregate_id", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("service_identity", sa.Text, nullable=False),
        sa.Column("trace_id", sa.Text),
        sa.Column("payload", JSONB, nullable=False, server_default="{}"),
        schema="audit",
    )
    op.create_index("ix_domain_event_aggregate", "domain_event", ["aggregate_type", "aggregate_id"], schema="audit")
    op.create_index("ix_domain_event_trace", "domain_event", ["trace_id"], schema="audit")
    op.create_table(
        "span",
        sa.Column("trace_id", sa.Text, primary_key=True),
        sa.Column("span_id", sa.Text, primary_key=True),
        sa.Column("parent_span_id", sa.Text),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("service", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_us", sa.BigInteger, nullable=False),
        sa.Column("status_code", sa.Text, nullable=False),
        sa.Column("status_message", sa.Text),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        schema="audit",
    )
    op.create_index("ix_span_start_time", "span", ["start_time"], schema="audit")
    op.create_table(
        "clock_offset",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("offset_seconds", sa.BigInteger, nullable=False, server_default="0"),
        schema="audit",
    )


def downgrade() -> None:
    for schema in reversed(SCHEMAS):
        op.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
