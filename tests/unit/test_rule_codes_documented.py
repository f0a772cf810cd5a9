"""Every rule code the code base can answer with is listed in docs/RULE_CODES.md (the clients' contract)."""

from __future__ import annotations

from core.settings import REPO_ROOT
import re

from tests.support.rule_codes import collect, source_literals

CATALOGUE = REPO_ROOT / "docs" / "RULE_CODES.md"
SPEC_CODES = (  # SPEC.md §5, the initial catalogue: extended, never renamed
    "customer.<operation>.email_unique", "customer.<operation>.requires_contact_medium",
    "customer.close.no_live_subscriptions", "customer.kyc.document_unique",
    "payment_method.add.customer_active_or_pending", "payment_method.add.card_not_expired",
    "payment_method.add.luhn_valid", "payment_method.add.at_most_5",
    "payment_method.remove.not_last_with_live_subscription", "order.create.customer_active",
    "order.create.requires_verified_customer", "order.create.requires_card_on_file",
    "order.create.offering_sellable_now", "order.create.msisdn_available",
    "order.cancel.not_after_provisioning_started", "inventory.<pool>.pool_exhausted",
    "inventory.msisdn.ported_out_is_terminal", "subscription.vas_purchase.not_if_terminated",
    "subscription.vas_purchase.offering_sellable", "subscription.renew.only_if_active_or_blocked",
    "subscription.terminate.only_if_live", "subscription.plan_change.only_if_active",
    "subscription.plan_change.same_offering", "subscription.plan_change.already_pending",
    "subscription.plan_change.target_not_sellable", "usage.record.positive_quantity",
    "usage.record.valid_event_type", "usage.record.unknown_msisdn", "usage.record.subscription_not_active",
    "usage.record.roaming_balance_required", "usage.record.duplicate_event",
    "provisioning.resolve.requires_stuck_with_note", "provisioning.retry.requires_failed_within_budget",
    "case.close.requires_resolution_and_tickets_resolved", "case.update.closed_is_immutable",
    "ticket.transition.valid_from_state", "ticket.resolve.requires_notes",
)


def test_every_code_raised_is_in_the_catalogue():
    documented = CATALOGUE.read_text()
    raised = collect()
    assert len(raised) > 100, "the scanner lost track of how codes are raised"
    missing = sorted(code for code in raised if f"`{code}`" not in documented)
    assert not missing, f"add these rule codes to {CATALOGUE.name}: {missing}"


def _spelled(code: str, raised: dict, source: str) -> bool:
    return code in raised or f'"{code}"' in source


def test_the_spec_catalogue_is_still_raised():
    raised, source = collect(), source_literals()
    assert [code for code in SPEC_CODES if not _spelled(code, raised, source)] == []


def test_the_catalogue_lists_no_code_that_is_gone():
    raised, source = collect(), source_literals()
    listed = re.findall(r"^\| `([^`]+)` \|", CATALOGUE.read_text(), flags=re.MULTILINE)
    assert len(listed) > 100
    stale = [code for code in listed if "<" not in code and not _spelled(code, raised, source)]
    assert stale == [], f"documented but never raised: {stale}"
