"""Catalog schema (TMF620): offerings (plans and VAS), their versioned prices and bundle allowances.

Allowances hang off the offering, not the specification: two plans share one specification
("a bundled prepaid line") and differ only in how much of each allowance they sell.
Quantities are integers in base units (MB, seconds, SMS count; -1 = unlimited, see
`domain.subscription`), money in minor units. The typed views at the end are what
`activities.catalog` hands other domains; the rules over them live in `policies.catalog`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
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


CURRENCY = "SGD"   # the one catalog currency; prices are tax-inclusive (SPEC §3)
PERIOD_DAYS = 30   # every plan renews 30 days after activation (SPEC §3, `reference_data.PERIOD_DAYS`)
# The kind of an offering is the reference category it sits in, and picks its specification.
KIND_CATEGORY = {OfferingKind.PLAN: "PLANS", OfferingKind.VAS: "VAS"}
KIND_SPECIFICATION = {OfferingKind.PLAN: "SPEC_MOBILE_BUNDLE", OfferingKind.VAS: "SPEC_ALLOWANCE_ADDON"}
# Every commit that changes a catalog table NOTIFYs this channel (trigger of migration 0015).
CHANGED_CHANNEL = "bss_catalog_changed"


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
    # Only the end of the window ever changes (closing a version); amounts and starts never do.
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
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

# An operator price migration: existing lines move from one price version to another at their
# first renewal on or after `effective_from` (creation + notice). The subscription flow reads it.
price_migration = Table(
    "price_migration", metadata,
    Column("id", Text, primary_key=True),
    Column("offering_id", Text, ForeignKey("catalog.product_offering.id"), nullable=False),
    Column("from_price_id", Text, ForeignKey("catalog.product_offering_price.id"), nullable=False),
    Column("to_price_id", Text, ForeignKey("catalog.product_offering_price.id"), nullable=False),
    Column("from_price_minor", Integer, nullable=False),
    Column("to_price_minor", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("notice_days", Integer, nullable=False),
    Column("effective_from", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("notice_days >= 0", name="notice_non_negative"),
    CheckConstraint("from_price_id <> to_price_id", name="prices_differ"),
    Index("ix_price_migration_offering_id", "offering_id", "effective_from"),
    schema="catalog",
)


def in_window(valid_from: dt.datetime, valid_to: dt.datetime | None, at: dt.datetime) -> bool:
    """True when `at` lies in the half-open window [valid_from, valid_to)."""
    return valid_from <= at and (valid_to is None or at < valid_to)


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)  # values, shared across flows: never mutated


class PriceVersion(_Value):
    """One stored version of an offering's price and its validity window."""

    id: str
    offering_id: str
    price_minor: int
    currency: str = CURRENCY
    price_type: PriceType
    period_days: int | None = None
    valid_from: dt.datetime
    valid_to: dt.datetime | None = None

    def active_at(self, at: dt.datetime) -> bool:
        """True when this version is in force at `at`."""
        return in_window(self.valid_from, self.valid_to, at)


class PriceSnapshot(_Value):
    """The price an order or renewal fixes: which version, how much, how often."""

    offering_id: str
    price_id: str
    price_minor: int
    currency: str
    price_type: PriceType
    period_days: int | None  # None for a one-time price


class Allowance(_Value):
    """What an offering grants of one allowance type, in its base unit (-1 = unlimited)."""

    allowance_type: AllowanceType
    quantity: int
    unit: str

    @property
    def unlimited(self) -> bool:
        """True when the allowance has no cap."""
        return self.quantity == UNLIMITED


class OfferingView(_Value):
    """The facts of an offering other domains act on (kind, validity, how a VAS expires)."""

    id: str
    name: str
    kind: OfferingKind
    lifecycle_status: LifecycleStatus
    is_sellable: bool
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    restores_data: bool
    vas_expiry: VasExpiry | None
    vas_duration_seconds: int | None


class PriceMigrationView(_Value):
    """A stored price migration, as the renewal flow applies it."""

    id: str
    offering_id: str
    from_price_id: str
    to_price_id: str
    from_price_minor: int
    to_price_minor: int
    currency: str
    notice_days: int
    effective_from: dt.datetime
    created_at: dt.datetime


def snapshot(price: PriceVersion) -> PriceSnapshot:
    """Fix `price` as the snapshot an order or renewal charges."""
    return PriceSnapshot(offering_id=price.offering_id, price_id=price.id, price_minor=price.price_minor,
                         currency=price.currency, price_type=price.price_type, period_days=price.period_days)
