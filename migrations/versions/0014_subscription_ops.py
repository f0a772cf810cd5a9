"""Subscription lifecycle: VAS grants, paid renewals and the price version each line pays.

Revision ID: 0014
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0014"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "vas_grant",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
        sa.Column("subscription_id", sa.Text, nullable=False),
        sa.Column("offering_id", sa.Text, nullable=False),
        sa.Column("request_id", sa.Text, nullable=False),
        sa.Column("payment_id", sa.Text, nullable=False, unique=True),
        sa.Column("price_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("allowances", JSONB, nullable=False),
        sa.Column("expiry", sa.Text, nullable=False),
        sa.Column("period_number", sa.Integer, nullable=False),
        sa.Column("granted_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("data_consumed_at_grant", sa.BigInteger),
        sa.Column("expired_at", TS),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("price_minor >= 0", name="price_non_negative"),
        sa.CheckConstraint("expires_at > granted_at", name="expires_after_grant"),
        sa.CheckConstraint("expiry IN ('end_of_period', 'duration')", name="expiry_known"),
        schema="subscription",
    )
    op.create_index("ix_vas_grant_subscription_id", "vas_grant", ["subscription_id"], schema="subscription")
    op.create_table(
        "renewal",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
        sa.Column("subscription_id", sa.Text, nullable=False),
        sa.Column("period_number", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("offering_id", sa.Text, nullable=False),
        sa.Column("previous_offering_id", sa.Text, nullable=False),
        sa.Column("price_id", sa.Text),
        sa.Column("price_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("migration_id", sa.Text),
        sa.Column("payment_id", sa.Text, nullable=False, unique=True),
        sa.Column("period_start", TS, nullable=False),
        sa.Column("period_end", TS, nullable=False),
        sa.Column("renewed_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('scheduled', 'explicit')", name="kind_known"),
        sa.CheckConstraint("period_number > 1", name="period_after_first"),
        sa.CheckConstraint("period_end > period_start", name="period_ordered"),
        schema="subscription",
    )
    op.create_index("ix_renewal_subscription_id", "renewal", ["subscription_id"], schema="subscription")
    op.create_table(
        "line_price",
        sa.Column("subscription_id", sa.Text, primary_key=True),
        sa.Column("price_id", sa.Text),
        sa.Column("pending_price_id", sa.Text),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        schema="subscription",
    )


def downgrade() -> None:
    op.drop_table("line_price", schema="subscription")
    op.drop_table("renewal", schema="subscription")
    op.drop_table("vas_grant", schema="subscription")
