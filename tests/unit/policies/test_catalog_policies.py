"""Catalog admin rules are pure: who may write, new offerings, price versions, windows, migrations."""

import datetime as dt

import pytest

from domain.catalog import (
    Allowance, AllowanceType, LifecycleStatus, OfferingKind, OfferingView, PriceMigrationView, PriceType, PriceVersion,
    VasExpiry,
)
from policies import catalog as rules

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
FULL = (Allowance(allowance_type=AllowanceType.DATA, quantity=1024, unit="MB"),
        Allowance(allowance_type=AllowanceType.VOICE, quantity=-1, unit="s"),
        Allowance(allowance_type=AllowanceType.SMS, quantity=0, unit="sms"),
        Allowance(allowance_type=AllowanceType.DATA_ROAMING, quantity=0, unit="MB"))
ROAMING = (Allowance(allowance_type=AllowanceType.DATA_ROAMING, quantity=1024, unit="MB"),)


def codes(violations) -> list[str]:
    return [v.code for v in violations]


def plan_draft(**changes) -> rules.OfferingDraft:
    base = {"id": "PLAN_XL", "name": "Ultra", "kind": OfferingKind.PLAN, "specification_id": "SPEC_MOBILE_BUNDLE",
            "category_ids": ("PLANS",), "allowances": FULL, "valid_from": T0}
    return rules.OfferingDraft(**(base | changes))


def vas_draft(**changes) -> rules.OfferingDraft:
    return plan_draft(**({"id": "VAS_X", "kind": OfferingKind.VAS, "category_ids": ("VAS",), "allowances": ROAMING,
                          "vas_expiry": VasExpiry.END_OF_PERIOD} | changes))


def check(draft, exists=False, known=("PLANS", "VAS"), spec=True) -> list[str]:
    return codes(rules.check_new_offering(draft, exists=exists, known_categories=known, specification_exists=spec))


def offering(**changes) -> OfferingView:
    base = {"id": "PLAN_M", "name": "Standard", "kind": OfferingKind.PLAN, "lifecycle_status": LifecycleStatus.ACTIVE,
            "is_sellable": True, "valid_from": T0 - 30 * DAY, "valid_to": None, "restores_data": False,
            "vas_expiry": None, "vas_duration_seconds": None}
    return OfferingView(**(base | changes))


def price(minor: int = 2000, start: dt.datetime = T0, end: dt.datetime | None = None, **changes) -> PriceVersion:
    base = {"id": "POP_PLAN_M_1", "offering_id": "PLAN_M", "price_minor": minor, "price_type": PriceType.RECURRING,
            "period_days": 30, "valid_from": start, "valid_to": end}
    return PriceVersion(**(base | changes))


@pytest.mark.parametrize(("surface", "allowed"), [("cli", True), ("system", True), ("portal-self-serve", False),
                                                  ("portal-csr", False), ("agent", False)])
def test_only_the_cli_and_the_system_administer_the_catalog(surface, allowed):
    assert (rules.check_admin(surface) == []) is allowed
    if not allowed:
        assert codes(rules.check_admin(surface)) == ["catalog.admin.forbidden"]


def test_a_complete_plan_and_a_vas_pass():
    assert check(plan_draft()) == [] and check(vas_draft()) == []
    assert check(vas_draft(vas_expiry=VasExpiry.DURATION, vas_duration_seconds=3600)) == []


@pytest.mark.parametrize(("draft", "kwargs", "expected"), [
    (plan_draft(), {"exists": True}, ["catalog.offering.id_unique"]),
    (plan_draft(id="PLAN_"), {}, ["catalog.offering.id_valid"]),
    (plan_draft(id="plan_xl"), {}, ["catalog.offering.id_valid"]),
    (plan_draft(category_ids=("PLANS", "GADGETS")), {}, ["catalog.offering.category_exists"]),
    (plan_draft(), {"spec": False}, ["catalog.offering.specification_exists"]),
    (plan_draft(kind=None), {}, ["catalog.offering.kind_from_category"]),
    (plan_draft(valid_to=T0), {}, ["catalog.offering.window_valid"]),
    (plan_draft(allowances=FULL[:3]), {}, ["catalog.offering.allowances_valid"]),
    (plan_draft(allowances=FULL + FULL[:1]), {}, ["catalog.offering.allowances_valid"]),
    (plan_draft(allowances=(Allowance(allowance_type=AllowanceType.DATA, quantity=1, unit="GB"),) + FULL[1:]), {},
     ["catalog.offering.allowances_valid"]),
    (plan_draft(allowances=(Allowance(allowance_type=AllowanceType.DATA, quantity=-2, unit="MB"),) + FULL[1:]), {},
     ["catalog.offering.allowances_valid"]),
    (plan_draft(vas_expiry=VasExpiry.END_OF_PERIOD), {}, ["catalog.offering.vas_expiry_valid"]),
    (vas_draft(allowances=FULL), {}, ["catalog.offering.allowances_valid"]),
    (vas_draft(allowances=(Allowance(allowance_type=AllowanceType.DATA, quantity=0, unit="MB"),)), {},
     ["catalog.offering.allowances_valid"]),
    (vas_draft(vas_expiry=None), {}, ["catalog.offering.vas_expiry_valid"]),
    (vas_draft(vas_expiry=VasExpiry.DURATION), {}, ["catalog.offering.vas_expiry_valid"]),
    (vas_draft(vas_duration_seconds=60), {}, ["catalog.offering.vas_expiry_valid"]),
])
def test_a_new_offering_breaking_one_rule_gets_that_code(draft, kwargs, expected):
    assert check(draft, **kwargs) == expected


def test_only_a_vas_adding_data_restores_data():
    assert vas_draft(allowances=(Allowance(allowance_type=AllowanceType.DATA, quantity=-1, unit="MB"),)).restores_data
    assert not vas_draft().restores_data and not plan_draft().restores_data


@pytest.mark.parametrize(("target", "new", "expected"), [
    (offering(), price(), []),
    (offering(), price(valid_from=T0 + DAY, end=T0 + 2 * DAY), []),
    (offering(lifecycle_status=LifecycleStatus.RETIRED), price(), ["catalog.price.offering_not_retired"]),
    (offering(valid_to=T0), price(), ["catalog.price.offering_not_retired"]),
    (offering(), price(price_type=PriceType.ONE_TIME, period_days=None), ["catalog.price.type_matches_kind"]),
    (offering(kind=OfferingKind.VAS), price(), ["catalog.price.type_matches_kind"]),
    (offering(), price(period_days=28), ["catalog.price.period_30_days"]),
    (offering(), price(currency="USD"), ["catalog.price.currency_supported"]),
    (offering(), price(start=T0 - dt.timedelta(seconds=1)), ["catalog.price.window_valid"]),
    (offering(), price(end=T0), ["catalog.price.window_valid"]),
])
def test_a_new_price_version(target, new, expected):
    assert codes(rules.check_new_price(target, new, T0)) == expected


@pytest.mark.parametrize(("target", "changed", "start", "end", "expected"), [
    (offering(), {"valid_to"}, T0 - 30 * DAY, T0 + DAY, []),
    (offering(), {"valid_to"}, T0 - 30 * DAY, T0 - DAY, ["catalog.offering.window_valid"]),
    (offering(valid_to=T0 - DAY), {"valid_to"}, T0 - 30 * DAY, None, ["catalog.offering.window_valid"]),
    (offering(), {"valid_from"}, T0 + DAY, None, ["catalog.offering.window_valid"]),
    (offering(valid_from=T0 + DAY), {"valid_from"}, T0 + 2 * DAY, None, []),
    (offering(valid_from=T0 + DAY), {"valid_from"}, T0 - DAY, None, ["catalog.offering.window_valid"]),
    (offering(valid_from=T0 + DAY), {"valid_from", "valid_to"}, T0 + 3 * DAY, T0 + 2 * DAY,
     ["catalog.offering.window_valid"]),
    (offering(lifecycle_status=LifecycleStatus.RETIRED), {"name"}, T0, None, ["catalog.offering.retired_is_immutable"]),
    (offering(lifecycle_status=LifecycleStatus.RETIRED), set(), T0, None, []),
])
def test_an_offering_window_never_rewrites_history(target, changed, start, end, expected):
    assert codes(rules.check_offering_change(target, changed, valid_from=start, valid_to=end, now=T0)) == expected


@pytest.mark.parametrize(("current", "end", "immutable", "expected"), [
    (price(start=T0 - DAY), T0 + DAY, (), []),
    (price(start=T0 - DAY, end=T0 + DAY), None, (), []),
    (price(start=T0 - DAY), T0 - dt.timedelta(seconds=1), (), ["catalog.price.window_valid"]),
    (price(start=T0 - 2 * DAY, end=T0), T0 + DAY, (), ["catalog.price.window_valid"]),
    (price(start=T0 + DAY), T0 + DAY, (), ["catalog.price.window_valid"]),
    (price(), None, ("price_minor",), ["catalog.price.immutable"]),
])
def test_a_price_version_may_only_move_an_end_that_has_not_passed(current, end, immutable, expected):
    assert codes(rules.check_price_change(current, valid_to=end, immutable=immutable, now=T0)) == expected


def migration(effective: dt.datetime) -> PriceMigrationView:
    return PriceMigrationView(id="PMIG_PLAN_M_1", offering_id="PLAN_M", from_price_id="POP_PLAN_M_1",
                              to_price_id="POP_PLAN_M_2", from_price_minor=2500, to_price_minor=2800, currency="SGD",
                              notice_days=30, effective_from=effective, created_at=effective - 30 * DAY)


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, []),
    ({"notice_days": 29, "effective_from": T0 + 29 * DAY}, ["catalog.migration.notice_at_least_30_days"]),
    ({"effective_from": T0 + 29 * DAY}, ["catalog.migration.effective_after_notice"]),
    ({"to_price_minor": 2500}, ["catalog.migration.price_changes"]),
    ({"currency": "USD"}, ["catalog.price.currency_supported"]),
    ({"pending": [migration(T0 + DAY)]}, ["catalog.migration.already_pending"]),
    ({"pending": [migration(T0)]}, []),
    ({"prices": [price(2500, T0 - DAY), price(2400, T0 + 40 * DAY, id="POP_PLAN_M_2")]},
     ["catalog.migration.conflicts_with_scheduled_price"]),
    ({"prices": []}, ["catalog.migration.offering_sellable_now"]),
])
def test_a_price_migration(changes, expected):
    args = {"offering": offering(), "prices": [price(2500, T0 - DAY)], "pending": [], "to_price_minor": 2800,
            "currency": "SGD", "notice_days": 30, "effective_from": T0 + 30 * DAY} | changes
    assert codes(rules.check_migration("PLAN_M", args.pop("offering"), args.pop("prices"), args.pop("pending"),
                                       now=T0, **args)) == expected
