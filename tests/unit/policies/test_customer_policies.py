"""Customer policies are pure: contact media, unique email, close, KYC documents, interactions."""

import pytest

from domain.customer import ContactPoint, CustomerStatus, DocumentType, MediumType, status_event
from policies import customer as rules

EMAIL = ContactPoint(MediumType.EMAIL, "Ada@Example.com", preferred=True)
MOBILE = ContactPoint(MediumType.MOBILE, "+6591234567")


def codes(violations) -> list[str]:
    return [v.code for v in violations]


def test_a_customer_needs_an_email_and_well_formed_addresses():
    assert rules.check_contact_media([EMAIL, MOBILE], {}) == []
    assert codes(rules.check_contact_media([MOBILE], {})) == ["customer.create.requires_contact_medium"]
    assert codes(rules.check_contact_media([ContactPoint(MediumType.EMAIL, "ada@")], {})) == [
        "customer.create.email_valid"]
    assert codes(rules.check_contact_media([EMAIL, ContactPoint(MediumType.MOBILE, "call me")], {})) == [
        "customer.create.phone_valid"]


def test_email_uniqueness_is_case_insensitive_and_ignores_the_customer_itself():
    owners = {"ada@example.com": "CUST-000001"}
    assert codes(rules.check_contact_media([EMAIL], owners)) == ["customer.create.email_unique"]
    assert rules.check_contact_media([EMAIL], owners, operation="update", customer_id="CUST-000001") == []
    assert codes(rules.check_contact_media([EMAIL], owners, operation="update", customer_id="CUST-000002")) == [
        "customer.update.email_unique"]
    twice = [EMAIL, ContactPoint(MediumType.EMAIL, "ADA@example.com")]
    assert codes(rules.check_contact_media(twice, {})) == ["customer.create.email_unique"]


def test_create_reports_a_missing_individual_with_the_contact_rules():
    found = rules.check_create([MOBILE], {}, engaged_party_id="IND-9", engaged_party_exists=False)
    assert codes(found) == ["customer.create.engaged_party_exists", "customer.create.requires_contact_medium"]
    assert found[0].context == {"engaged_party_id": "IND-9"}


def test_closed_customers_are_frozen_and_the_engaged_party_never_changes():
    def update(status, party=None):
        return codes(rules.check_update("CUST-1", status, individual_id="IND-1", requested_party_id=party,
                                        points=None, email_owners={}))
    assert update(CustomerStatus.CLOSED) == ["customer.update.closed_is_immutable"]
    assert update(CustomerStatus.ACTIVE, "IND-2") == ["customer.update.engaged_party_immutable"]
    assert update(CustomerStatus.ACTIVE, "IND-1") == []


def test_close_needs_no_live_subscription():
    assert rules.check_close("CUST-1", []) == []
    (refused,) = rules.check_close("CUST-1", ["SUB-2", "SUB-1"])
    assert refused.code == "customer.close.no_live_subscriptions" and refused.context["subscriptions"] == [
        "SUB-1", "SUB-2"]
    assert codes(rules.check_delete("CUST-1")) == ["customer.delete.has_history"]


@pytest.mark.parametrize(("document_type", "raw", "ok"), [
    (DocumentType.NRIC, "s1234567a", True), (DocumentType.NRIC, "S 1234567-A", True),
    (DocumentType.NRIC, "X1234567A", False), (DocumentType.NRIC, "S123456A", False),
    (DocumentType.PASSPORT, "E1234567", True), (DocumentType.PASSPORT, "K12", False),
    (DocumentType.PASSPORT, "E123!567", False),
])
def test_document_numbers_are_normalised_then_format_checked(document_type, raw, ok):
    found = rules.check_document_format(document_type, rules.normalise_document_number(raw))
    assert codes(found) == ([] if ok else ["customer.kyc.document_malformed"])


def test_one_document_per_customer_and_one_customer_per_document():
    def kyc(status=CustomerStatus.PENDING, mine=None, owner=None):
        return codes(rules.check_kyc("CUST-1", status, document_hash="h1", customer_document_hash=mine,
                                     document_owner=owner))
    assert kyc() == [] and kyc(mine="h1", owner="CUST-1") == []
    assert kyc(owner="CUST-2") == ["customer.kyc.document_unique"]
    assert kyc(mine="h0") == ["customer.kyc.one_document_per_customer"]
    assert kyc(CustomerStatus.CLOSED) == ["customer.kyc.customer_closed"]


def test_an_interaction_names_exactly_one_existing_customer():
    assert rules.check_interaction(["CUST-1"], ["CUST-1"]) == []
    assert codes(rules.check_interaction([], [])) == ["party_interaction.create.requires_customer"]
    assert codes(rules.check_interaction(["CUST-1", "CUST-2"], [])) == ["party_interaction.create.requires_customer"]
    assert codes(rules.check_interaction(["CUST-9"], [])) == ["party_interaction.create.customer_exists"]


def test_requested_statuses_map_to_machine_events():
    assert status_event(CustomerStatus.PENDING, CustomerStatus.ACTIVE) == "activate"
    assert status_event(CustomerStatus.SUSPENDED, CustomerStatus.ACTIVE) == "resume"
    assert status_event(CustomerStatus.ACTIVE, CustomerStatus.CLOSED) == "close"
    assert status_event(CustomerStatus.PENDING, CustomerStatus.CLOSED) == "close"  # the machine refuses it
