"""Agent conversations: sessions, messages and tool calls (append-only), and the session of audit rows.

Revision ID: 0017
Revises: 0001

`agent.message`, `agent.tool_call` and `agent.turn` refuse UPDATE and DELETE (a trigger), so a transcript, once
written, stays as written: an escalation's case names its SHA-256. `audit.domain_event.session_id`
is the agent session a row was written in (the `X-BSS-Session` header of an agent's call).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0017"
down_revision = "0001"
branch_labels = ("agent",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS agent")
    op.execute("CREATE SEQUENCE IF NOT EXISTS agent.session_seq")
    op.create_table(
        "session",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("customer_id", sa.Text),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("next_seq", sa.Integer, nullable=False, server_default="1"),
        sa.Column("pending", JSONB),
        sa.CheckConstraint("profile IN ('operator', 'customer')", name="profile_valid"),
        sa.CheckConstraint("profile = 'operator' OR customer_id IS NOT NULL", name="customer_bound"),
        schema="agent",
    )
    op.create_index("ix_session_customer_id_created_at", "session", ["customer_id", "created_at"], schema="agent")
    op.create_index("ix_session_created_at", "session", ["created_at"], schema="agent")
    op.create_table(
        "message",
        sa.Column("session_id", sa.Text, sa.ForeignKey("agent.session.id", name="fk_message_session_id_session"),
                  nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("session_id", "seq", name="pk_message"),
        sa.CheckConstraint("role IN ('user', 'assistant', 'system')", name="role_valid"),
        schema="agent",
    )
    op.create_table(
        "tool_call",
        sa.Column("session_id", sa.Text, sa.ForeignKey("agent.session.id", name="fk_tool_call_session_id_session"),
                  nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("call_id", sa.Text),
        sa.Column("operation", sa.Text, nullable=False),
        sa.Column("args", JSONB, nullable=False, server_default="{}"),
        sa.Column("result", JSONB),
        sa.Column("error", JSONB),
        sa.Column("trace_id", sa.Text),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("session_id", "seq", name="pk_tool_call"),
        schema="agent",
    )
    op.create_table(
        "turn",
        sa.Column("session_id", sa.Text, sa.ForeignKey("agent.session.id", name="fk_turn_session_id_session"),
                  nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("cost_usd", sa.Numeric(14, 6), nullable=False, server_default="0"),
        sa.Column("stopped", sa.Text),
        sa.Column("escalated", sa.Text),
        sa.Column("trace_id", sa.Text),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("session_id", "seq", name="pk_turn"),
        sa.CheckConstraint("tokens >= 0 AND cost_usd >= 0", name="usage_non_negative"),
        schema="agent",
    )
    op.execute("""
        CREATE FUNCTION agent.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'agent transcripts are append-only: % on %.% refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END $$""")
    for table in ("message", "tool_call", "turn"):
        op.execute(f"CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON agent.{table} "
                   "FOR EACH ROW EXECUTE FUNCTION agent.refuse_change()")
    op.add_column("domain_event", sa.Column("session_id", sa.Text), schema="audit")
    op.create_index("ix_domain_event_session", "domain_event", ["session_id"], schema="audit",
                    postgresql_where=sa.text("session_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_domain_event_session", "domain_event", schema="audit")
    op.drop_column("domain_event", "session_id", schema="audit")
    op.drop_table("turn", schema="agent")
    op.drop_table("tool_call", schema="agent")
    op.drop_table("message", schema="agent")
    op.drop_table("session", schema="agent")
    op.execute("DROP FUNCTION agent.refuse_change()")
    op.execute("DROP SEQUENCE agent.session_seq")
