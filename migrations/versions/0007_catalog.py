"""Catalog pricing: price versions record when their window last changed; operator price migrations.

Revision ID: 0007
Revises: 0002

Hand-written to match `domain/catalog.py` (`tests/unit/test_migrations_match_tables.py` compares).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0002"
branch_labels = ("catalog",)
depends_on = None


def upgrade() -> None:
    op.add_column("product_offering_price",
                  sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
                  schema="catalog")
    op.create_table(
        "price_migration",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("offering_id", sa.Text, sa.ForeignKey("catalog.product_offering.id"), nullable=False),
        sa.Column("from_price_id", sa.Text, sa.ForeignKey("catalog.product_offering_price.id"), nullable=False),
        sa.Column("to_price_id", sa.Text, sa.ForeignKey("catalog.product_offering_price.id"), nullable=False),
        sa.Column("from_price_minor", sa.Integer, nullable=False),
        sa.Column("to_price_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("notice_days", sa.Integer, nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("notice_days >= 0", name="notice_non_negative"),
        sa.CheckConstraint("from_price_id <> to_price_id", name="prices_differ"),
        schema="catalog",
    )
    op.create_index("ix_price_migration_offering_id", "price_migration", ["offering_id", "effective_from"],
                    schema="catalog")


def downgrade() -> None:
    op.drop_table("price_migration", schema="catalog")
    op.drop_column("product_offering_price", "updated_at", schema="catalog")
