"""Customer rules: contact media, unique email, close without live lines, one identity document each.

Every function is pure: callers load what it needs (who owns an email, which lines are live) and
raise the returned violations with `policies.base.raise_if`. The API runs them for a fast 422; the
activity runs them again on locked rows, where they have the last word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from core.errors import Violation
from domain.customer import ContactPoint, CustomerStatus, DocumentType, MediumType
from policies.base import violation

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PHONE = re.compile(r"^\+?\d{6,15}$")  # E.164-ish once spaces, dashes and brackets are dropped
# Format only; the provider, not us, decides whether a document is genuine.
DOCUMENT_FORMATS = {
    DocumentType.NRIC: re.compile(r"^[STFGM]\d{7}[A-Z]$"),   # Singapore NRIC/FIN: letter, 7 digits, letter
    DocumentType.PASSPORT: re.compile(r"^[A-Z0-9]{6,9}$"),   # ICAO 9303 document number, 6–9 alphanumerics
}


def normalise_document_number(number: str) -> str:
    """Upper-case a document number and drop spaces and hyphens (how people type them)."""
    return re.sub(r"[\s-]", "", number).upper()


def normalise_phone(number: str) -> str:
    """Drop the spaces, dashes, dots and brackets people type inside phone numbers."""
    return re.sub(r"[\s().-]", "", number)


def check_contact_media(points: Iterable[ContactPoint], email_owners: Mapping[str, str], *,
                        operation: str = "create", customer_id: str | None = None) -> list[Violation]:
    """Require an email, well-formed addresses, and no email held by another live customer."""
    points = list(points)
    found: list[Violation] = [
        violation(f"customer.{operation}.phone_valid", f"'{p.value}' is not a phone number", phone=p.value)
        for p in points if p.medium_type == MediumType.MOBILE and not PHONE.match(p.value)]
    emails = [p for p in points if p.medium_type == MediumType.EMAIL]
    if not emails:
        found.append(violation(f"customer.{operation}.requires_contact_medium",
                               "a customer needs at least one email contact medium"))
    seen: set[str] = set()
    for point in emails:
        key = point.email_key or ""
        if not EMAIL.match(key):
            found.append(violation(f"customer.{operation}.email_valid",
                                   f"'{point.value}' is not an email address", email=point.value))
            continue
        owner = email_owners.get(key)
        if (owner is not None and owner != customer_id) or key in seen:
            found.append(violation(f"customer.{operation}.email_unique",
                                   f"the email '{point.value}' already belongs to another customer",
                                   email=point.value))
        seen.add(key)
    return found


def check_create(points: Iterable[ContactPoint], email_owners: Mapping[str, str], *,
                 engaged_party_id: str, engaged_party_exists: bool) -> list[Violation]:
    """Check a new customer: its individual exists and its contact media pass."""
    found = []
    if not engaged_party_exists:
        found.append(violation("customer.create.engaged_party_exists",
                               f"individual '{engaged_party_id}' does not exist",
                               engaged_party_id=engaged_party_id))
    return found + check_contact_media(points, email_owners)


def check_update(customer_id: str, status: CustomerStatus, *, individual_id: str,
                 requested_party_id: str | None, points: Iterable[ContactPoint] | None,
                 email_owners: Mapping[str, str]) -> list[Violation]:
    """Check a merge-patch: closed customers are frozen, the engaged party never changes."""
    if status == CustomerStatus.CLOSED:
        return [violation("customer.update.closed_is_immutable", f"customer '{customer_id}' is closed",
                          customer_id=customer_id)]
    found = []
    if requested_party_id is not None and requested_party_id != individual_id:
        found.append(violation("customer.update.engaged_party_immutable",
                               "the engaged party of a customer cannot be changed",
                               engaged_party_id=individual_id))
    if points is not None:
        found += check_contact_media(points, email_owners, operation="update", customer_id=customer_id)
    return found


def check_close(customer_id: str, live_subscription_ids: Iterable[str]) -> list[Violation]:
    """Refuse to close a customer who still has a pending, active or blocked line."""
    live = sorted(live_subscription_ids)
    if live:
        return [violation("customer.close.no_live_subscriptions",
                          f"customer '{customer_id}' still has {len(live)} live subscription(s);"
                          " terminate them first",
                          customer_id=customer_id, subscriptions=live)]
    return []


def check_delete(customer_id: str) -> list[Violation]:
    """Refuse DELETE: every customer has an audit trail and interactions that must be kept."""
    return [violation("customer.delete.has_history",
                      f"customer '{customer_id}' has history and cannot be deleted; close it instead",
                      customer_id=customer_id)]


def check_document_format(document_type: DocumentType, number: str) -> list[Violation]:
    """Check that a (normalised) document number is well formed for its type."""
    if DOCUMENT_FORMATS[document_type].match(number):
        return []
    return [violation("customer.kyc.document_malformed", f"not a well-formed {document_type.value} number",
                      document_type=document_type.value)]


def check_kyc(customer_id: str, status: CustomerStatus, *, document_hash: str,
              customer_document_hash: str | None, document_owner: str | None) -> list[Violation]:
    """One identity document per customer and one customer per document; closed customers are frozen."""
    if status == CustomerStatus.CLOSED:
        return [violation("customer.kyc.customer_closed", f"customer '{customer_id}' is closed",
                          customer_id=customer_id)]
    found = []
    if document_owner is not None and document_owner != customer_id:
        # The other customer's id stays out of the context: it would leak who holds the document.
        found.append(violation("customer.kyc.document_unique",
                               "this identity document is already attested for another customer"))
    if customer_document_hash is not None and customer_document_hash != document_hash:
        found.append(violation("customer.kyc.one_document_per_customer",
                               f"customer '{customer_id}' is already verified with another document",
                               customer_id=customer_id))
    return found


def check_interaction(customer_ids: list[str], existing: Iterable[str]) -> list[Violation]:
    """A party interaction names exactly one existing customer."""
    if len(customer_ids) != 1:
        return [violation("party_interaction.create.requires_customer",
                          "relatedParty must name exactly one party with @referredType 'Customer'")]
    if customer_ids[0] not in set(existing):
        return [violation("party_interaction.create.customer_exists",
                          f"customer '{customer_ids[0]}' does not exist", customer_id=customer_ids[0])]
    return []
