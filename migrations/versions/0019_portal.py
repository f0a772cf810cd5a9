"""Portal sessions: login codes, server-side sessions, CSR console operators, rate-limit counters.

Revision ID: 0019
Revises: 0002 (operators are members of `crm.agent`)

Secrets are stored as SHA-256 digests (tokens, codes, links) or argon2id (operator passwords);
see domain/portal.py.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0019"
down_revision = "0002"
branch_labels = ("portal",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS portal")
    op.create_table(
        "login_code",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("code_digest", sa.Text, nullable=False),
        sa.Column("link_digest", sa.Text),
        sa.Column("session_digest", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS),
        sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("purpose IN ('login', 'signup', 'step_up')", name="purpose_known"),
        sa.CheckConstraint("purpose <> 'step_up' OR session_digest IS NOT NULL", name="step_up_has_session"),
        schema="portal",
    )
    op.create_index("ix_login_code_email_purpose_created_at", "login_code", ["email", "purpose", "created_at"],
                    schema="portal")
    op.create_index("ix_login_code_link_digest", "login_code", ["link_digest"], unique=True, schema="portal",
                    postgresql_where=sa.text("link_digest IS NOT NULL"))
    op.create_table(
        "operator",
        sa.Column("username", sa.Text, primary_key=True),
        sa.Column("agent_id", sa.Text, sa.ForeignKey("crm.agent.id", name="fk_operator_agent_id_agent"),
                  nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("disabled_at", TS),
        sa.CheckConstraint("username ~ '^[a-z][a-z0-9._-]{1,31}$'", name="username_valid"),
        schema="portal",
    )
    op.create_table(
        "session",
        sa.Column("token_digest", sa.Text, primary_key=True),
        sa.Column("surface", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("customer_id", sa.Text),
        sa.Column("operator", sa.Text, sa.ForeignKey("portal.operator.username", name="fk_session_operator_operator")),
        sa.Column("csrf", sa.Text, nullable=False),
        sa.Column("data", JSONB, nullable=False, server_default="{}"),
        sa.Column("client_address", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("step_up_until", TS),
        sa.CheckConstraint("kind IN ('customer', 'visitor', 'operator')", name="kind_known"),
        sa.CheckConstraint("(kind = 'customer') = (customer_id IS NOT NULL)", name="customer_bound"),
        sa.CheckConstraint("(kind = 'operator') = (operator IS NOT NULL)", name="operator_bound"),
        schema="portal",
    )
    op.create_index("ix_session_expires_at", "session", ["expires_at"], schema="portal")
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
        schema="portal",
    )
    op.create_index("ix_login_attempt_key_at", "login_attempt", ["key", "at"], schema="portal")


def downgrade() -> None:
    op.execute("DROP SCHEMA portal CASCADE")
