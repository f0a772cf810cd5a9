"""CRM customer schema: individuals, customers, contact media, KYC attestations, party interactions."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from domain.metadata import metadata
from domain.states import StateMachine


class CustomerStatus(StrEnum):
    """Lifecycle of a customer (SPEC §2); also the wire `status`."""

    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class KycStatus(StrEnum):
    """Identity-verification sub-state of a customer."""

    NOT_VERIFIED = "not_verified"
    VERIFIED = "verified"


class MediumType(StrEnum):
    """Kinds of contact medium we hold."""

    EMAIL = "email"
    MOBILE = "mobile"
    POSTAL_ADDRESS = "postalAddress"


class DocumentType(StrEnum):
    """Identity documents the KYC providers attest."""

    NRIC = "nric"
    PASSPORT = "passport"


CUSTOMER_MACHINE: StateMachine[CustomerStatus] = StateMachine("customer", {
    (CustomerStatus.PENDING, "activate"): CustomerStatus.ACTIVE,
    (CustomerStatus.ACTIVE, "suspend"): CustomerStatus.SUSPENDED,
    (CustomerStatus.SUSPENDED, "resume"): CustomerStatus.ACTIVE,
    (CustomerStatus.ACTIVE, "close"): CustomerStatus.CLOSED,
})

# Which event of the machine a requested target status means, from each current status.
_EVENT_FOR_TARGET = {
    CustomerStatus.ACTIVE: {CustomerStatus.PENDING: "activate", CustomerStatus.SUSPENDED: "resume"},
    CustomerStatus.SUSPENDED: {CustomerStatus.ACTIVE: "suspend"},
    CustomerStatus.CLOSED: {CustomerStatus.ACTIVE: "close"},
}


_GENERIC_EVENT = {CustomerStatus.ACTIVE: "activate", CustomerStatus.SUSPENDED: "suspend",
                  CustomerStatus.CLOSED: "close", CustomerStatus.PENDING: "reopen"}


def status_event(current: CustomerStatus, target: CustomerStatus) -> str:
    """Name the event that moves `current` to `target` (the machine then accepts or refuses it)."""
    return _EVENT_FOR_TARGET.get(target, {}).get(current) or _GENERIC_EVENT[target]


@dataclass(frozen=True)
class ContactPoint:
    """One way to reach a customer: an email address, a mobile number or a postal address."""

    medium_type: MediumType
    value: str            # the address or number; a postal address keeps its parts in `details`
    preferred: bool = False
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def email_key(self) -> str | None:
        """The case-insensitive identity of an email address (None for other media)."""
        return self.value.strip().lower() if self.medium_type == MediumType.EMAIL else None


individual = Table(
    "individual", metadata,
    Column("id", Text, primary_key=True),
    Column("given_name", Text, nullable=False),
    Column("family_name", Text, nullable=False),
    Column("middle_name", Text),
    Column("birth_date", Date),
    Column("gender", Text),
    Column("nationality", Text),
    Column("title", Text),
    Column("status", Text, nullable=False, server_default="initialized"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    schema="crm",
)

# TMF632 Organization: a business a customer can be engaged with (small-business accounts).
# `registration_number` is the first organizationIdentification's id (e.g. a UEN): one organization each.
organization = Table(
    "organization", metadata,
    Column("id", Text, primary_key=True),
    Column("trading_name", Text, nullable=False),
    Column("name", Text),
    Column("name_type", Text),
    Column("organization_type", Text),
    Column("is_legal_entity", Boolean),
    Column("is_head_office", Boolean),
    Column("registration_number", Text),
    # organizationIdentification, contactMedium, externalReference, partyCharacteristic, otherName as sent
    Column("details", JSONB, nullable=False, server_default="{}"),
    Column("status", Text, nullable=False, server_default="initialized"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("uq_organization_registration_number", "registration_number", unique=True),
    Index("ix_organization_trading_name", "trading_name"),
    schema="crm",
)

customer = Table(
    "customer", metadata,
    Column("id", Text, primary_key=True),
    # The engaged party: an individual, or an organization for a small-business account. The CHECK keeps it to
    # one; creating a customer (activities/customer.py) always names one.
    Column("individual_id", Text),
    Column("organization_id", Text),
    Column("name", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=CustomerStatus.PENDING.value),
    Column("status_reason", Text),
    Column("kyc_status", Text, nullable=False, server_default=KycStatus.NOT_VERIFIED.value),
    Column("kyc_verified_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("closed_at", DateTime(timezone=True)),
    Index("ix_customer_individual_id", "individual_id"),
    Index("ix_customer_organization_id", "organization_id"),
    Index("ix_customer_status", "status"),
    CheckConstraint("num_nonnulls(individual_id, organization_id) <= 1", name="at_most_one_engaged_party"),
    schema="crm",
)
# `?engagedParty.id=` filters on either party (apis/tmf629_customer.py).
Index("ix_customer_engaged_party_id", func.coalesce(customer.c.individual_id, customer.c.organization_id))

contact_medium = Table(
    "contact_medium", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("customer_id", Text, nullable=False),
    Column("medium_type", Text, nullable=False),
    Column("value", Text, nullable=False),
    Column("preferred", Boolean, nullable=False, server_default="false"),
    Column("details", JSONB, nullable=False, server_default="{}"),
    # False once the customer is closed: a closed customer's address may be used again.
    Column("live", Boolean, nullable=False, server_default="true"),
    Index("ix_contact_medium_customer_id", "customer_id"),
    schema="crm",
)
EMAIL_UNIQUE_INDEX = "uq_contact_medium_live_email"
# The last word on `customer.create.email_unique`: two concurrent creates cannot both commit.
Index(EMAIL_UNIQUE_INDEX, func.lower(contact_medium.c.value), unique=True,
      postgresql_where=text("medium_type = 'email' AND live"))

kyc_attestation = Table(
    "kyc_attestation", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("customer_id", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("attestation_ref", Text, nullable=False),
    Column("document_type", Text, nullable=False),
    Column("document_last4", Text, nullable=False),
    # Peppered SHA-256 of the normalised number: lets us refuse a second customer, never reveals it.
    Column("document_hash", Text, nullable=False),
    Column("full_name", Text),
    Column("date_of_birth", Date),
    Column("verified_at", DateTime(timezone=True), nullable=False),
    Index("uq_kyc_attestation_customer_id", "customer_id", unique=True),  # one document per customer
    Index("uq_kyc_attestation_document_hash", "document_hash", unique=True),  # one customer per document
    schema="crm",
)

party_interaction = Table(
    "party_interaction", metadata,
    Column("id", Text, primary_key=True),
    Column("customer_id", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("direction", Text, nullable=False, server_default="inbound"),
    Column("status", Text, nullable=False, server_default="completed"),
    Column("reason", Text, nullable=False),
    Column("description", Text),
    Column("actor", Text),
    Column("start_at", DateTime(timezone=True), nullable=False),
    Column("end_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status_changed_at", DateTime(timezone=True)),
    Index("ix_party_interaction_customer_start", "customer_id", "start_at"),
    schema="crm",
)
