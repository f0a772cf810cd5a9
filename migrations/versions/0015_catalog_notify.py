"""Catalog changes NOTIFY `bss_catalog_changed`, so API processes can cache catalog reads.

Revision ID: 0015
Revises: 0007

A statement-level trigger on every catalog table, whoever writes (the admin API, a seed, a reset,
psql): the NOTIFY is delivered at commit, once per transaction and channel (PostgreSQL folds
identical notifications), to every process that LISTENs (`apis/catalog_cache.py`). The channel
name is `domain.catalog.CHANGED_CHANNEL`.
"""

from alembic import op

revision = "0015"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("catalog", "category", "catalog_category", "product_specification", "product_offering",
          "offering_category", "product_offering_price", "bundle_allowance", "price_migration")


def upgrade() -> None:
    op.execute("""
        CREATE FUNCTION catalog.notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('bss_catalog_changed', '');
            RETURN NULL;
        END $$""")
    for table in TABLES:
        op.execute(f"CREATE TRIGGER notify_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON catalog.{table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION catalog.notify_changed()")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER notify_changed ON catalog.{table}")
    op.execute("DROP FUNCTION catalog.notify_changed()")
