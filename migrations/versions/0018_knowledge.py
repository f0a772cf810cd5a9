"""Knowledge: the operations handbook's sections, searchable with PostgreSQL full-text search.

Revision ID: 0018
Revises: 0001

One row per `##` section of docs/HANDBOOK.md (`domain/knowledge.py`), loaded by `bss seed`
(`activities/knowledge.py`). `search` is generated from the title (weight A) and the plain text
(weight B) and indexed with GIN, so `websearch_to_tsquery` matches use the index.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "0018"
down_revision = "0001"
branch_labels = None
depends_on = None

SEARCH_VECTOR = ("setweight(to_tsvector('english'::regconfig, title), 'A'::\"char\")"
                 " || setweight(to_tsvector('english'::regconfig, content), 'B'::\"char\")")


def upgrade() -> None:
    op.create_table(
        "knowledge_section",
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("anchor", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("search", TSVECTOR, sa.Computed(SEARCH_VECTOR, persisted=True), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "anchor"),
        sa.CheckConstraint("anchor ~ '^[a-z0-9_-]+$'", name="anchor_slug"),
        sa.CheckConstraint("position >= 0", name="position_non_negative"),
        schema="crm",
    )
    op.create_index("ix_knowledge_section_search", "knowledge_section", ["search"], schema="crm",
                    postgresql_using="gin")


def downgrade() -> None:
    op.drop_table("knowledge_section", schema="crm")
