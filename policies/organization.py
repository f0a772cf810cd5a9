"""Organization rules (TMF632): a business registration number belongs to one organization.

Pure: the caller loads which organization holds the number and raises the returned violations with
`policies.base.raise_if`; the activity runs the check on locked rows and the unique index has the last word.
"""

from __future__ import annotations

import re

from core.errors import Violation
from policies.base import violation

REGISTRATION_UNIQUE = "organization.registration_unique"


def normalise_registration(number: str) -> str:
    """Upper-case a registration number and drop spaces and hyphens (how people type them)."""
    return re.sub(r"[\s-]", "", number).upper()


def check_registration(registration_number: str | None, holder: str | None, *,
                       organization_id: str | None = None) -> list[Violation]:
    """Refuse a registration number another organization already holds."""
    if registration_number is None or holder is None or holder == organization_id:
        return []
    return [violation(REGISTRATION_UNIQUE, "this business registration number belongs to another organization",
                      registrationNumber=registration_number, organizationId=holder)]


def check_customer_kyc(customer_id: str, organization_id: str, registration_number: str | None) -> list[Violation]:
    """KYC of a small-business customer: the person's document, and a business registration on the organization."""
    if registration_number:
        return []
    return [violation("customer.kyc.organization_registration_required",
                      f"organization '{organization_id}' has no business registration number (organizationIdentification)",
                      customer_id=customer_id, organization_id=organization_id)]
