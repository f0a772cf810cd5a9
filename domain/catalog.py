"""Catalog schema (TMF620): offerings (plans and VAS), their versioned prices and bundle allowances.

Allowances hang off the offering, not the specification: two plans share one specification
("a bundled prepaid line") and differ only in how much of each allowance they sell.
Quantities are integers in base units (MB, seconds, SMS count; -1 = unlimited, see
`domain.subscription`), money in minor units.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    false,
    func,
    true,
)

from domain.metadata import metadata
from domain.states import StateMachine

# The balance side defined these first; the catalog sells exactly the same allowances (re-exported).
from domain.subscription import ALLOWANCE_UNITS, UNLIMITED, AllowanceType  # noqa: F401


class OfferingKind(StrEnum):
    """What an offering is: a base plan or a value-added service bought on top of one."""

    PLAN = "plan"
    VAS = "vas"


class LifecycleStatus(StrEnum):
    """Lifecycle of catalog entities (offerings, specifications, categories, catalogs)."""

    IN_DESIGN = "in_design"
    ACTIVE = "active"
    RETIRED = "retired"


OFFERING_MACHINE: StateMachine[LifecycleStatus] = StateMachine("product_offering", {
    (LifecycleStatus.IN_DESIGN, "launch"): LifecycleStatus.ACTIVE,
    (LifecycleStatus.ACTIVE, "retire"): LifecycleStatus.RETIRED,
})


class PriceType(StrEnum):
    """How a price is charged (TMF `priceType`; `one_time` is `oneTime` on the wire)."""

    RECURRING = "recurring"
    ONE_TIME = "one_time"


class VasExpiry(StrEnum):
    """When a VAS allowance lapses: with the plan period, or a fixed duration after purchase."""

    END_OF_PERIOD = "end_of_period"
    DURATION = "duration"


catalog = Table(
    "catalog", metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("description", Text),
    Column("lifecycle_status", Text, nullable=False, server_default=LifecycleStatus.ACTIVE.value),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    schema="catalog",
)

category = Table(
    "category", metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("parent_id", Text, ForeignKey("catalog.category.id")),
    Column("lifecycle_status", Text, nullable=False, server_default=LifecycleStatus.ACTIVE.value),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    schema="catalog",
)

catalog_category = Table(
    "catalog_category", metadata,
    Column("catalog_id", Text, ForeignKey("catalog.catalog.id"), nullable=False),
    Column("category_id", Text, ForeignKey("catalog.category.id"), nullable=False),
    PrimaryKeyConstraint("catalog_id", "category_id", name="pk_catalog_category"),
    schema="catalog",
)

product_specification = Table(
    "product_specification", metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("lifecycle_status", Text, nullable=False, server_default=LifecycleStatus.ACTIVE.value),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    schema="catalog",
)

product_offering = Table(
    "product_offering", metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("kind", Text, nullable=False),
    Column("lifecycle_status", Text, nullable=False, server_default=LifecycleStatus.ACTIVE.value),
    Column("is_bundle", Boolean, nullable=False, server_default=false()),
    Column("is_sellable", Boolean, nullable=False, server_default=true()),
    Column("specification_id", Text, ForeignKey("catalog.product_specification.id"), nullable=False),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_to", DateTime(timezone=True)),
    Column("vas_expiry", Text),
    Column("vas_duration_seconds", Integer),
    # Only a VAS that adds `data` may lift a block on exhaustion (SPEC §2: roaming does not unblock).
    Column("restores_data", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("kind IN ('plan', 'vas')", name="kind_known"),
    CheckConstraint("lifecycle_status IN ('in_design', 'active', 'retired')", name="lifecycle_status_known"),
    CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity_ordered"),
    # A plan lives by its period; a VAS must say how it expires, and a fixed duration needs a length.
    CheckConstraint("(kind = 'plan' AND vas_expiry IS NULL AND vas_duration_seconds IS NULL"
                    " AND NOT restores_data)"
                    " OR (kind = 'vas' AND vas_expiry = 'end_of_period' AND vas_duration_seconds IS NULL)"
                    " OR (kind = 'vas' AND vas_expiry = 'duration' AND vas_duration_seconds > 0)",
                    name="vas_expiry_consistent"),
    schema="catalog",
)

offering_category = Table(
    "offering_category", metadata,
    Column("offering_id", Text, ForeignKey("catalog.product_offering.id"), nullable=False),
    Column("category_id", Text, ForeignKey("catalog.category.id"), nullable=False),
    PrimaryKeyConstraint("offering_id", "category_id", name="pk_offering_category"),
    schema="catalog",
)

# Prices are versions with validity windows and are never updated in place: a new price is a new
# row. "The lowest price active at t wins" is computed by readers; orders snapshot the result.
product_offering_price = Table(
    "product_offering_price", metadata,
    Column("id", Text, primary_key=True),
    Column("offering_id", Text, ForeignKey("catalog.product_offering.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("price_type", Text, nullable=False),
    Column("price_minor", Integer, nullable=False),
    Column("currency", Text, nullable=False, server_default="SGD"),
    Column("recurring_period_days", Integer),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_to", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("price_minor >= 0", name="price_non_negative"),
    CheckConstraint("price_type IN ('recurring', 'one_time')", name="price_type_known"),
    CheckConstraint("(price_type = 'recurring' AND recurring_period_days > 0)"
                    " OR (price_type = 'one_time' AND recurring_period_days IS NULL)", name="period_matches_type"),
    CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity_ordered"),
    Index("ix_product_offering_price_offering_id", "offering_id", "valid_from"),
    schema="catalog",
)

bundle_allowance = Table(
    "bundle_allowance", metadata,
    Column("offering_id", Text, ForeignKey("catalog.product_offering.id"), nullable=False),
    Column("allowance_type", Text, nullable=False),
    Column("quantity", BigInteger, nullable=False),  # base units of `unit`; -1 = unlimited
    Column("unit", Text, nullable=False),
    PrimaryKeyConstraint("offering_id", "allowance_type", name="pk_bundle_allowance"),
    CheckConstraint("quantity >= -1", name="quantity_valid"),
    CheckConstraint("(allowance_type IN ('data', 'data_roaming') AND unit = 'MB')"
                    " OR (allowance_type = 'voice' AND unit = 's')"
                    " OR (allowance_type = 'sms' AND unit = 'sms')", name="unit_matches_type"),
    schema="catalog",
)
