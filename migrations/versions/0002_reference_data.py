"""Reference-data tables: catalog, inventory pools, CRM agents and SLAs, provisioning simulator knobs.

Revision ID: 0002
Revises: 0001

Hand-written to match `domain/catalog.py`, `domain/inventory.py`, `domain/crm.py` and
`domain/provisioning.py`; `tests/unit/test_migrations_match_tables.py` holds them together.
Constraint names are the short ones of the Table definitions: the shared naming convention
(`domain.metadata.NAMING`) expands them identically in both places.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = ("reference_data",)
depends_on = None


def _timestamps(*names: str) -> list[sa.Column]:
    return [sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
            for name in names]


def _catalog() -> None:
    op.create_table(
        "catalog",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("description", sa.Text),
        sa.Column("lifecycle_status", sa.Text, nullable=False, server_default="active"),
        *_timestamps("created_at", "updated_at"),
        schema="catalog",
    )
    op.create_table(
        "category",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("parent_id", sa.Text, sa.ForeignKey("catalog.category.id")),
        sa.Column("lifecycle_status", sa.Text, nullable=False, server_default="active"),
        *_timestamps("created_at", "updated_at"),
        schema="catalog",
    )
    op.create_table(
        "catalog_category",
        sa.Column("catalog_id", sa.Text, sa.ForeignKey("catalog.catalog.id"), nullable=False),
        sa.Column("category_id", sa.Text, sa.ForeignKey("catalog.category.id"), nullable=False),
        sa.PrimaryKeyConstraint("catalog_id", "category_id", name="pk_catalog_category"),
        schema="catalog",
    )
    op.create_table(
        "product_specification",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("lifecycle_status", sa.Text, nullable=False, server_default="active"),
        *_timestamps("created_at", "updated_at"),
        schema="catalog",
    )
    op.create_table(
        "product_offering",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("lifecycle_status", sa.Text, nullable=False, server_default="active"),
        sa.Column("is_bundle", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("is_sellable", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("specification_id", sa.Text, sa.ForeignKey("catalog.product_specification.id"), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True)),
        sa.Column("vas_expiry", sa.Text),
        sa.Column("vas_duration_seconds", sa.Integer),
        sa.Column("restores_data", sa.Boolean, nullable=False, server_default=sa.false()),
        *_timestamps("created_at", "updated_at"),
        sa.CheckConstraint("kind IN ('plan', 'vas')", name="kind_known"),
        sa.CheckConstraint("lifecycle_status IN ('in_design', 'active', 'retired')", name="lifecycle_status_known"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity_ordered"),
        sa.CheckConstraint("(kind = 'plan' AND vas_expiry IS NULL AND vas_duration_seconds IS NULL"
                           " AND NOT restores_data)"
                           " OR (kind = 'vas' AND vas_expiry = 'end_of_period' AND vas_duration_seconds IS NULL)"
                           " OR (kind = 'vas' AND vas_expiry = 'duration' AND vas_duration_seconds > 0)",
                           name="vas_expiry_consistent"),
        schema="catalog",
    )
    op.create_table(
        "offering_category",
        sa.Column("offering_id", sa.Text, sa.ForeignKey("catalog.product_offering.id"), nullable=False),
        sa.Column("category_id", sa.Text, sa.ForeignKey("catalog.category.id"), nullable=False),
        sa.PrimaryKeyConstraint("offering_id", "category_id", name="pk_offering_category"),
        schema="catalog",
    )
    op.create_table(
        "product_offering_price",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("offering_id", sa.Text, sa.ForeignKey("catalog.product_offering.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("price_type", sa.Text, nullable=False),
        sa.Column("price_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.Text, nullable=False, server_default="SGD"),
        sa.Column("recurring_period_days", sa.Integer),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True)),
        *_timestamps("created_at"),
        sa.CheckConstraint("price_minor >= 0", name="price_non_negative"),
        sa.CheckConstraint("price_type IN ('recurring', 'one_time')", name="price_type_known"),
        sa.CheckConstraint("(price_type = 'recurring' AND recurring_period_days > 0)"
                           " OR (price_type = 'one_time' AND recurring_period_days IS NULL)",
                           name="period_matches_type"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity_ordered"),
        schema="catalog",
    )
    op.create_index("ix_product_offering_price_offering_id", "product_offering_price",
                    ["offering_id", "valid_from"], schema="catalog")
    op.create_table(
        "bundle_allowance",
        sa.Column("offering_id", sa.Text, sa.ForeignKey("catalog.product_offering.id"), nullable=False),
        sa.Column("allowance_type", sa.Text, nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("offering_id", "allowance_type", name="pk_bundle_allowance"),
        sa.CheckConstraint("quantity >= -1", name="quantity_valid"),
        sa.CheckConstraint("(allowance_type IN ('data', 'data_roaming') AND unit = 'MB')"
                           " OR (allowance_type = 'voice' AND unit = 's')"
                           " OR (allowance_type = 'sms' AND unit = 'sms')", name="unit_matches_type"),
        schema="catalog",
    )


def _inventory() -> None:
    op.create_table(
        "msisdn",
        sa.Column("number", sa.Text, primary_key=True),
        sa.Column("state", sa.Text, nullable=False, server_default="available"),
        sa.Column("reserved_for", sa.Text),
        sa.Column("reserved_at", sa.DateTime(timezone=True)),
        sa.Column("assigned_to", sa.Text),
        sa.Column("quarantine_until", sa.DateTime(timezone=True)),
        sa.Column("range_id", sa.Text),
        *_timestamps("created_at", "updated_at"),
        sa.CheckConstraint("number ~ '^[0-9]{8,15}$'", name="number_digits"),
        sa.CheckConstraint("state IN ('available', 'reserved', 'assigned', 'quarantine', 'ported_out')",
                           name="state_known"),
        sa.CheckConstraint("state <> 'reserved' OR reserved_for IS NOT NULL", name="reserved_has_holder"),
        sa.CheckConstraint("state <> 'assigned' OR assigned_to IS NOT NULL", name="assigned_has_subscription"),
        sa.CheckConstraint("state <> 'quarantine' OR quarantine_until IS NOT NULL", name="quarantine_has_end"),
        schema="inventory",
    )
    op.create_index("ix_msisdn_state", "msisdn", ["state", "number"], schema="inventory")
    op.create_table(
        "esim_profile",
        sa.Column("iccid", sa.Text, primary_key=True),
        sa.Column("imsi", sa.Text, nullable=False, unique=True),
        sa.Column("state", sa.Text, nullable=False, server_default="available"),
        sa.Column("smdp_address", sa.Text, nullable=False),
        sa.Column("matching_id", sa.Text, nullable=False, unique=True),
        sa.Column("ki_ref", sa.Text, nullable=False),
        sa.Column("reserved_for", sa.Text),
        sa.Column("reserved_at", sa.DateTime(timezone=True)),
        sa.Column("assigned_msisdn", sa.Text),
        *_timestamps("created_at", "updated_at"),
        sa.CheckConstraint("iccid ~ '^89[0-9]{17,18}$'", name="iccid_digits"),
        sa.CheckConstraint("imsi ~ '^[0-9]{15}$'", name="imsi_digits"),
        sa.CheckConstraint("state IN ('available', 'reserved', 'downloaded', 'activated', 'suspended', 'recycled')",
                           name="state_known"),
        sa.CheckConstraint("state <> 'reserved' OR reserved_for IS NOT NULL", name="reserved_has_holder"),
        schema="inventory",
    )
    op.create_index("ix_esim_profile_state", "esim_profile", ["state", "iccid"], schema="inventory")
    op.create_table(
        "msisdn_range",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("first_number", sa.Text, nullable=False),
        sa.Column("last_number", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("added_by", sa.Text, nullable=False),
        *_timestamps("created_at"),
        sa.UniqueConstraint("first_number", "last_number"),
        sa.CheckConstraint("size > 0", name="size_positive"),
        sa.CheckConstraint("length(first_number) = length(last_number) AND first_number <= last_number",
                           name="bounds_ordered"),
        schema="inventory",
    )


def _crm() -> None:
    op.create_table(
        "agent",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False, unique=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        *_timestamps("created_at", "updated_at"),
        sa.CheckConstraint("role IN ('csr', 'supervisor', 'engineer', 'system')", name="role_known"),
        schema="crm",
    )
    op.create_table(
        "ticket_sla",
        sa.Column("ticket_type", sa.Text, nullable=False),
        sa.Column("priority", sa.Text, nullable=False),
        sa.Column("response_minutes", sa.Integer, nullable=False),
        sa.Column("resolution_minutes", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("ticket_type", "priority", name="pk_ticket_sla"),
        sa.CheckConstraint("priority IN ('critical', 'high', 'medium', 'low')", name="priority_known"),
        sa.CheckConstraint("response_minutes > 0 AND resolution_minutes >= response_minutes",
                           name="deadlines_ordered"),
        schema="crm",
    )


def _provisioning() -> None:
    op.create_table(
        "fault_rule",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("task_type", sa.Text, nullable=False),
        sa.Column("mode", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("probability_pct", sa.SmallInteger, nullable=False, server_default="100"),
        sa.Column("slow_ms", sa.Integer),
        *_timestamps("updated_at"),
        sa.UniqueConstraint("task_type", "mode"),
        sa.CheckConstraint("mode IN ('fail_first_attempt', 'fail_always', 'stuck', 'slow')", name="mode_known"),
        sa.CheckConstraint("probability_pct BETWEEN 0 AND 100", name="probability_is_percent"),
        sa.CheckConstraint("(mode = 'slow') = (slow_ms IS NOT NULL) AND (slow_ms IS NULL OR slow_ms > 0)",
                           name="slow_ms_only_when_slow"),
        schema="provisioning",
    )
    op.create_table(
        "simulator_latency",
        sa.Column("task_type", sa.Text, primary_key=True),
        sa.Column("latency_ms", sa.Integer, nullable=False),
        *_timestamps("updated_at"),
        sa.CheckConstraint("latency_ms >= 0", name="latency_non_negative"),
        schema="provisioning",
    )


def upgrade() -> None:
    _catalog()
    _inventory()
    _crm()
    _provisioning()


def downgrade() -> None:
    for schema, table in (("provisioning", "simulator_latency"), ("provisioning", "fault_rule"),
                          ("crm", "ticket_sla"), ("crm", "agent"),
                          ("inventory", "msisdn_range"), ("inventory", "esim_profile"), ("inventory", "msisdn"),
                          ("catalog", "bundle_allowance"), ("catalog", "product_offering_price"),
                          ("catalog", "offering_category"), ("catalog", "product_offering"),
                          ("catalog", "product_specification"), ("catalog", "catalog_category"),
                          ("catalog", "category"), ("catalog", "catalog")):
        op.drop_table(table, schema=schema)
