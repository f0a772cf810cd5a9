"""Mediation: one row per usage event, rated or rejected.

Revision ID: 0012
Revises: 0001

Hand-written to match `domain/mediation.py`. The schema and `usage_seq` come with 0001.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0001"
branch_labels = ("mediation",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_record",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Text, nullable=False, unique=True),
        sa.Column("msisdn", sa.Text, nullable=False),
        sa.Column("subscription_id", sa.Text),
        sa.Column("customer_id", sa.Text),
        sa.Column("usage_type", sa.Text, nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("roaming", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reject_code", sa.Text),
        sa.Column("rated_allowance", sa.Text),
        sa.Column("charged_quantity", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("balance_after", sa.BigInteger),
        sa.Column("blocked_line", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("usage_type IN ('data', 'voice', 'sms')", name="usage_type_known"),
        sa.CheckConstraint("status IN ('rated', 'rejected')", name="status_known"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("charged_quantity >= 0 AND charged_quantity <= quantity", name="charged_within_quantity"),
        sa.CheckConstraint("(status = 'rejected') = (reject_code IS NOT NULL)", name="rejected_with_code"),
        sa.CheckConstraint("(status = 'rated') = (charged_quantity > 0)", name="rated_iff_charged"),
        schema="mediation",
    )
    op.create_index("ix_usage_record_msisdn", "usage_record", ["msisdn", "received_at"], schema="mediation")
    op.create_index("ix_usage_record_subscription_id", "usage_record", ["subscription_id", "received_at"],
                    schema="mediation")


def downgrade() -> None:
    op.drop_table("usage_record", schema="mediation")
