"""Catalog rules: sellable now, the lowest active price wins, and what an operator may change.

Pure functions over loaded values (offerings, price versions, the clock's `now`), so the API can
answer a fast 422 and the activity can run the same rules again on locked rows. Windows are
half-open, `[valid_from, valid_to)`. Rule codes, all under `catalog.*` except the one the order
flow owns (`order.create.offering_sellable_now`, SPEC §5):

* `catalog.admin.forbidden` — only the `cli` and `system` surfaces administer the catalog.
* `catalog.offering.{id_valid, id_unique, category_exists, specification_exists, kind_from_category,
  window_valid, allowances_valid, vas_expiry_valid, retired_is_immutable}`.
* `catalog.price.{offering_not_retired, type_matches_kind, period_30_days, currency_supported,
  window_valid, immutable}` — a price version is never rewritten: amount, type, period and start
  are fixed once created (an order may have snapshotted it); only an open end may be closed.
* `catalog.migration.{offering_sellable_now, notice_at_least_30_days, effective_after_notice,
  already_pending, price_changes, conflicts_with_scheduled_price}` — 30 days is the minimum
  notice of a price change to existing customers (the usual regulatory floor; ours by policy).
* `catalog.specification.{id_valid, id_unique, retired_is_immutable, in_use}` and
  `catalog.offering.specification_retired` — a specification live offerings stand on stays on sale.
* `catalog.price.{offering_required, amount_required}` — what a price version cannot do without.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.errors import Violation
from core.scopes import SURFACE_SCOPES, Scope
from domain.catalog import (
    ALLOWANCE_UNITS,
    CURRENCY,
    PERIOD_DAYS,
    Allowance,
    AllowanceType,
    LifecycleStatus,
    OfferingKind,
    OfferingView,
    PriceMigrationView,
    PriceType,
    PriceVersion,
    VasExpiry,
)
from policies.base import violation

SELLABLE_NOW = "order.create.offering_sellable_now"
# The surfaces holding the catalog:admin scope: the activities' own check agrees with the routes' by construction.
ADMIN_SURFACES = frozenset(surface.value for surface, held in SURFACE_SCOPES.items() if Scope.CATALOG_ADMIN in held)
MIN_NOTICE_DAYS = 30
OFFERING_ID = re.compile(r"(?=.{3,40}$)[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")  # PLAN_XL, VAS_DATA_1GB
KIND_PRICE_TYPE = {OfferingKind.PLAN: PriceType.RECURRING, OfferingKind.VAS: PriceType.ONE_TIME}


@dataclass(frozen=True)
class OfferingDraft:
    """A new plan or VAS as an operator proposes it (kind None when its categories do not say)."""

    id: str
    name: str
    kind: OfferingKind | None
    specification_id: str
    category_ids: tuple[str, ...]
    allowances: tuple[Allowance, ...]
    valid_from: dt.datetime
    valid_to: dt.datetime | None = None
    vas_expiry: VasExpiry | None = None
    vas_duration_seconds: int | None = None

    @property
    def restores_data(self) -> bool:
        """Only a VAS adding data lifts a block on exhaustion (SPEC §2: roaming does not)."""
        return self.kind is OfferingKind.VAS and any(a.allowance_type is AllowanceType.DATA for a in self.allowances)


def winning_price(prices: Iterable[PriceVersion], as_of: dt.datetime) -> PriceVersion | None:
    """Return the lowest price active at `as_of` (None when no version is in force)."""
    # Among equal amounts the newest version wins (latest start, then id): deterministic, and
    # the snapshot names the version an operator set last.
    newest_first = sorted((p for p in prices if p.active_at(as_of)), key=lambda p: (p.valid_from, p.id), reverse=True)
    return min(newest_first, key=lambda p: p.price_minor, default=None)


def unsellable_reasons(offering: OfferingView | None, prices: Iterable[PriceVersion], as_of: dt.datetime) -> list[str]:
    """Say why an offering cannot be sold at `as_of` (empty when it can)."""
    if offering is None:
        return ["unknown offering"]
    reasons = []
    if offering.lifecycle_status is not LifecycleStatus.ACTIVE:
        reasons.append(f"lifecycle is {offering.lifecycle_status.value}")
    if not offering.is_sellable:
        reasons.append("marked not sellable")
    if offering.valid_from > as_of:
        reasons.append("not yet valid")
    elif offering.valid_to is not None and as_of >= offering.valid_to:
        reasons.append("no longer valid")
    if winning_price(prices, as_of) is None:
        reasons.append("no price in force")
    return reasons


def check_sellable(offering_id: str, offering: OfferingView | None, prices: Iterable[PriceVersion],
                   as_of: dt.datetime, *, code: str = SELLABLE_NOW) -> list[Violation]:
    """Require the offering to be active, in its window and priced at `as_of`."""
    reasons = unsellable_reasons(offering, prices, as_of)
    if not reasons:
        return []
    return [violation(code, f"offering '{offering_id}' is not sellable at {as_of.isoformat()}: {'; '.join(reasons)}",
                      offering_id=offering_id, as_of=as_of.isoformat(), reasons=reasons)]


def check_admin(service_identity: str) -> list[Violation]:
    """Only the operator CLI and the system itself may change the catalog."""
    if service_identity in ADMIN_SURFACES:
        return []
    return [violation("catalog.admin.forbidden", f"the '{service_identity}' surface cannot change the catalog",
                      service_identity=service_identity, allowed=sorted(ADMIN_SURFACES))]


def _window(code: str, valid_from: dt.datetime, valid_to: dt.datetime | None) -> list[Violation]:
    if valid_to is not None and valid_to <= valid_from:
        return [violation(code, "the window must end after it starts", valid_from=valid_from.isoformat(),
                          valid_to=valid_to.isoformat())]
    return []


def _allowances(kind: OfferingKind | None, allowances: tuple[Allowance, ...]) -> list[Violation]:
    code = "catalog.offering.allowances_valid"
    found = []
    types = [a.allowance_type for a in allowances]
    if len(set(types)) != len(types):
        found.append(violation(code, "each allowance type may appear once", allowance_types=[t.value for t in types]))
    for a in allowances:
        if a.unit != ALLOWANCE_UNITS[a.allowance_type]:
            found.append(violation(code, f"{a.allowance_type.value} is counted in {ALLOWANCE_UNITS[a.allowance_type]}, "
                                   f"not {a.unit}", allowance_type=a.allowance_type.value, unit=a.unit))
        if a.quantity < -1:
            found.append(violation(code, f"{a.allowance_type.value}: quantity must be -1 (unlimited) or at least 0",
                                   allowance_type=a.allowance_type.value, quantity=a.quantity))
    if kind is OfferingKind.PLAN and set(types) != set(AllowanceType):
        found.append(violation(code, "a plan declares every allowance type (0 when it grants none)",
                               missing=sorted(t.value for t in set(AllowanceType) - set(types))))
    if kind is OfferingKind.VAS and (len(allowances) != 1 or allowances[0].quantity == 0):
        found.append(violation(code, "a VAS adds exactly one allowance, and a non-zero one"))
    return found


def _vas_expiry(draft: OfferingDraft) -> list[Violation]:
    code = "catalog.offering.vas_expiry_valid"
    if draft.kind is OfferingKind.PLAN and (draft.vas_expiry or draft.vas_duration_seconds):
        return [violation(code, "a plan lasts its 30-day period; only a VAS has an expiry")]
    if draft.kind is OfferingKind.VAS:
        if draft.vas_expiry is None:
            return [violation(code, "a VAS must say when it expires (endOfPeriod or a duration)")]
        if (draft.vas_expiry is VasExpiry.DURATION) != bool(draft.vas_duration_seconds and draft.vas_duration_seconds > 0):
            return [violation(code, "a duration expiry needs a positive duration, and only it has one")]
    return []


def check_new_offering(draft: OfferingDraft, *, exists: bool, known_categories: Iterable[str],
                       specification_exists: bool, specification_retired: bool = False) -> list[Violation]:
    """Check a new offering: unique id, known references, a kind, a window, allowances, expiry."""
    found = []
    if not OFFERING_ID.fullmatch(draft.id):
        found.append(violation("catalog.offering.id_valid", f"'{draft.id}' is not an offering id like PLAN_XL",
                               offering_id=draft.id))
    if exists:
        found.append(violation("catalog.offering.id_unique", f"offering '{draft.id}' already exists", offering_id=draft.id))
    missing = sorted(set(draft.category_ids) - set(known_categories))
    if missing:
        found.append(violation("catalog.offering.category_exists", f"unknown categories: {', '.join(missing)}",
                               categories=missing))
    if not specification_exists:
        found.append(violation("catalog.offering.specification_exists",
                               f"product specification '{draft.specification_id}' does not exist",
                               specification_id=draft.specification_id))
    elif specification_retired:
        found.append(violation("catalog.offering.specification_retired",
                               f"product specification '{draft.specification_id}' is retired",
                               specification_id=draft.specification_id))
    if draft.kind is None:
        found.append(violation("catalog.offering.kind_from_category",
                               "an offering sits in exactly one of the categories PLANS or VAS",
                               categories=list(draft.category_ids)))
    return (found + _window("catalog.offering.window_valid", draft.valid_from, draft.valid_to)
            + _allowances(draft.kind, draft.allowances) + _vas_expiry(draft))


def check_new_specification(specification_id: str, *, exists: bool) -> list[Violation]:
    """Check a new product specification: an id like SPEC_XL, not taken."""
    if not OFFERING_ID.fullmatch(specification_id):
        return [violation("catalog.specification.id_valid", f"'{specification_id}' is not a specification id like "
                          "SPEC_MOBILE_BUNDLE", specification_id=specification_id)]
    if exists:
        return [violation("catalog.specification.id_unique", f"product specification '{specification_id}' already "
                          "exists", specification_id=specification_id)]
    return []


def check_specification_change(specification_id: str, status: LifecycleStatus, changed: Iterable[str], *,
                               retiring: bool, live_offerings: Iterable[str]) -> list[Violation]:
    """Retired specifications are frozen; one that live offerings stand on cannot be retired."""
    changed = sorted(changed)
    if status is LifecycleStatus.RETIRED and changed:
        return [violation("catalog.specification.retired_is_immutable",
                          f"product specification '{specification_id}' is retired",
                          specification_id=specification_id, fields=changed)]
    live = sorted(live_offerings)
    if retiring and live:
        return [violation("catalog.specification.in_use", f"offerings not retired stand on '{specification_id}': "
                          f"{', '.join(live)}; retire them first", specification_id=specification_id, offerings=live)]
    return []


def check_price_essentials(*, offering_given: bool, amount_given: bool) -> list[Violation]:
    """A price version prices one offering with one amount; neither can be defaulted."""
    found = []
    if not offering_given:
        found.append(violation("catalog.price.offering_required", "a price version names the offering it prices "
                               "(productOffering.id)", missing="productOffering"))
    if not amount_given:
        found.append(violation("catalog.price.amount_required", "a price version says its amount (price.value)",
                               missing="price.value"))
    return found


def check_new_price(offering: OfferingView, price: PriceVersion, now: dt.datetime) -> list[Violation]:
    """Check a new price version: a live offering, the right type and period, SGD, a future window."""
    found = []
    if offering.lifecycle_status is LifecycleStatus.RETIRED or (offering.valid_to and offering.valid_to <= now):
        found.append(violation("catalog.price.offering_not_retired", f"offering '{offering.id}' is retired",
                               offering_id=offering.id))
    expected = KIND_PRICE_TYPE[offering.kind]
    if price.price_type is not expected:
        found.append(violation("catalog.price.type_matches_kind", f"a {offering.kind.value} is priced {expected.value}",
                               price_type=price.price_type.value, expected=expected.value))
    elif expected is PriceType.RECURRING and price.period_days != PERIOD_DAYS:
        found.append(violation("catalog.price.period_30_days", f"a plan recurs every {PERIOD_DAYS} days",
                               period_days=price.period_days))
    if price.currency != CURRENCY:
        found.append(violation("catalog.price.currency_supported", f"prices are in {CURRENCY}", currency=price.currency))
    if price.valid_from < now:
        # A past start would rewrite which price was in force when earlier orders were taken.
        found.append(violation("catalog.price.window_valid", "a price version cannot start in the past",
                               valid_from=price.valid_from.isoformat(), now=now.isoformat()))
    return found + _window("catalog.price.window_valid", price.valid_from, price.valid_to)


def check_offering_change(offering: OfferingView, changed: Iterable[str], *, valid_from: dt.datetime,
                          valid_to: dt.datetime | None, now: dt.datetime) -> list[Violation]:
    """Check a change to an offering: retired ones are frozen, and its window never rewrites history."""
    changed = set(changed)
    code = "catalog.offering.window_valid"
    if offering.lifecycle_status is LifecycleStatus.RETIRED and changed:
        return [violation("catalog.offering.retired_is_immutable", f"offering '{offering.id}' is retired",
                          offering_id=offering.id, fields=sorted(changed))]
    found = _window(code, valid_from, valid_to) if changed & {"valid_from", "valid_to"} else []
    if "valid_from" in changed and valid_from != offering.valid_from and (offering.valid_from <= now or valid_from < now):
        found.append(violation(code, "only a start still in the future may move, and not into the past",
                               valid_from=offering.valid_from.isoformat()))
    if "valid_to" in changed and valid_to != offering.valid_to:
        if offering.valid_to is not None and offering.valid_to <= now:
            found.append(violation(code, "the window has already ended", valid_to=offering.valid_to.isoformat()))
        elif valid_to is not None and valid_to < now:
            found.append(violation(code, "the window cannot end in the past", valid_to=valid_to.isoformat()))
    return found


def check_price_change(price: PriceVersion, *, valid_to: dt.datetime | None, immutable: Iterable[str],
                       now: dt.datetime) -> list[Violation]:
    """Allow only closing (or re-opening) the end of a price version that has not ended yet."""
    changed = sorted(immutable)
    found = [violation("catalog.price.immutable", f"{', '.join(changed)} of a price version cannot change; "
                       "create a new version instead", price_id=price.id, fields=changed)] if changed else []
    if valid_to != price.valid_to:
        if price.valid_to is not None and price.valid_to <= now:
            found.append(violation("catalog.price.window_valid", "the price version has already ended",
                                   price_id=price.id, valid_to=price.valid_to.isoformat()))
        elif valid_to is not None and valid_to < now:
            found.append(violation("catalog.price.window_valid", "a price version cannot end in the past",
                                   price_id=price.id, valid_to=valid_to.isoformat()))
        found += _window("catalog.price.window_valid", price.valid_from, valid_to)
    return found


def check_migration(offering_id: str, offering: OfferingView | None, prices: list[PriceVersion],
                    pending: Iterable[PriceMigrationView], *, to_price_minor: int, currency: str, notice_days: int,
                    effective_from: dt.datetime, now: dt.datetime) -> list[Violation]:
    """Check an operator price migration: a priced offering, enough notice, one pending at a time."""
    found = check_sellable(offering_id, offering, prices, now, code="catalog.migration.offering_sellable_now")
    if currency != CURRENCY:
        found.append(violation("catalog.price.currency_supported", f"prices are in {CURRENCY}", currency=currency))
    if notice_days < MIN_NOTICE_DAYS:
        found.append(violation("catalog.migration.notice_at_least_30_days",
                               f"existing customers get at least {MIN_NOTICE_DAYS} days' notice",
                               notice_days=notice_days))
    if effective_from < now + dt.timedelta(days=notice_days):
        found.append(violation("catalog.migration.effective_after_notice", "the migration starts after the notice",
                               effective_from=effective_from.isoformat(), notice_days=notice_days))
    waiting = [m.id for m in pending if m.effective_from > now]
    if waiting:
        found.append(violation("catalog.migration.already_pending", f"migration {waiting[0]} is not effective yet",
                               pending=waiting))
    current = winning_price(prices, now)
    if current is not None and current.price_minor == to_price_minor:
        found.append(violation("catalog.migration.price_changes", "the new price equals the current one",
                               price_minor=to_price_minor))
    scheduled = sorted(p.id for p in prices if p.valid_from >= effective_from)
    if scheduled:
        found.append(violation("catalog.migration.conflicts_with_scheduled_price",
                               "price versions already start at or after the migration", prices=scheduled))
    return found
