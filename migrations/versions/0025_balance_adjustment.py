"""TMF654 adjustBalance: an operator's credit or debit to one bucket of a line, for the period it was made in.

Revision ID: 0025
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0014"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "balance_adjustment",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column("subscription_id", sa.Text, nullable=False),
        sa.Column("allowance_type", sa.Text, nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("period_start", TS, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("quantity <> 0", name="quantity_non_zero"),
        sa.UniqueConstraint("idempotency_key", name="uq_balance_adjustment_idempotency_key"),
        schema="subscription",
    )
    op.create_index("ix_balance_adjustment_subscription_id", "balance_adjustment",
                    ["subscription_id", "period_start"], schema="subscription")


def downgrade() -> None:
    op.drop_table("balance_adjustment", schema="subscription")
