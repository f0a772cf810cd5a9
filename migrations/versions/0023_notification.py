"""Customer notifications: one row per mail the notifier decided on, keyed so it is decided once.

Revision ID: 0023
Revises: 0021

`key` is the idempotency key (audit event id and kind, or line, allowance, period and threshold for a
bundle alert); the row commits with its TMF683 interaction, and `sent_at` is set once the mail went.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("recipient", sa.Text),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("interaction_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        schema="crm",
    )
    op.create_index("uq_notification_key", "notification", ["key"], unique=True, schema="crm")
    op.create_index("ix_notification_customer_id", "notification", ["customer_id"], schema="crm")


def downgrade() -> None:
    op.drop_table("notification", schema="crm")
