"""TMF635 usage specifications an operator creates (the built-in data/voice/SMS ones stay in code).

Each names the usage type its events are rated as (`data | voice | sms`): rating knows only those.

Revision ID: 0024
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_specification",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("description", sa.Text),
        sa.Column("usage_type", sa.Text, nullable=False),
        sa.Column("version", sa.Text),
        sa.Column("lifecycle_status", sa.Text, nullable=False, server_default="active"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("usage_type IN ('data', 'voice', 'sms')", name="usage_type_known"),
        schema="mediation",
    )


def downgrade() -> None:
    op.drop_table("usage_specification", schema="mediation")
