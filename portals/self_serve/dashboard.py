"""The signed-in home as a page shows it: one card per line, built from the API's own shapes.

Pure functions from TMF637 products, TMF654 buckets, the line's daily usage (`usage.daily`) and the
catalog's add-ons to plain values the templates print; no I/O, so every wording is unit-tested. A
blocked line says why in words and offers the one thing that lifts the block: the cheapest data
add-on on sale for a line out of data, a renewal for a line whose renewal was declined.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from portals.charts import Gauge, gauge, usage_charts
from portals.self_serve.catalog_view import Offer, money

LIVE = ("pending", "active", "blocked")
STATE_WORDS = {"pending": "Being set up", "active": "Active", "blocked": "Blocked", "terminated": "Ended"}
GAUGE_ORDER = (("data", "Data"), ("voice", "Calls"), ("sms", "SMS"), ("data_roaming", "Roaming data"))
BLOCKED_WORDS = {
    "data_exhausted": "You have used all the data in your plan, so data is paused until you add more "
                      "or the plan renews.",
    "renewal_declined": "We could not charge your card for this period's renewal, so the line is paused. "
                        "Renew now (after checking your card) to use it again.",
}
# What each finished action says above the line, by the name the redirect puts in `?done=`.
DONE = {"addon": "Your add-on was bought and is on your line now.",
        "plan": "Your plan change is booked: it takes effect when the line next renews.",
        "plan_cancelled": "The plan change was cancelled. Your line stays on its current plan.",
        "renewed": "Your line was renewed and is ready to use.",
        "terminated": "Your line was ended. Its number is released after a quarantine period."}


@dataclass(frozen=True)
class PendingChange:
    """A plan change booked for the next renewal."""

    plan: str
    price: str | None


@dataclass(frozen=True)
class LineCard:
    """One line as the dashboard and the line page show it."""

    id: str
    msisdn: str
    plan_id: str
    plan: str
    state: str
    state_words: str
    price: str
    period_days: int
    renews_on: str | None  # `8 Jan 2027`, None without a period
    pending: PendingChange | None
    blocked_reason: str | None  # in words
    fix: Offer | None = None          # the add-on that lifts a data block
    fix_renew: bool = False           # a renewal lifts the block
    gauges: list[Gauge] = field(default_factory=list)
    charts: list[tuple[str, Markup]] = field(default_factory=list)

    @property
    def live(self) -> bool:
        """Not ended: the line can still be changed."""
        return self.state in LIVE

    @property
    def can_change_plan(self) -> bool:
        """Only an active line with no change booked may book one (the API's rule, checked again there)."""
        return self.state == "active" and self.pending is None


def characteristics(product: dict[str, Any]) -> dict[str, Any]:
    """A product's `productCharacteristic` as name -> value."""
    return {c["name"]: c.get("value") for c in product.get("productCharacteristic", [])}


def day(stamp: str | None) -> str | None:
    """`8 Jan 2027` from an ISO date-time (the period's end is the renewal date)."""
    if not stamp:
        return None
    when = dt.datetime.fromisoformat(stamp)
    return f"{when.day} {when:%b %Y}"


def plan_price(product: dict[str, Any]) -> str:
    """The line's snapshotted price per period, `SGD 25.00`."""
    price = (product.get("productPrice") or [{}])[0].get("price", {}).get("taxIncludedAmount") or {}
    if "value" not in price:
        return ""
    return money(round(float(price["value"]) * 100), price.get("unit", "SGD"))


def gauges(buckets: list[dict[str, Any]]) -> list[Gauge]:
    """Balance bars of one line's buckets, data first; an allowance the plan does not include is left out."""
    found = {b.get("allowanceType"): b for b in buckets}
    bars = []
    for key, label in GAUGE_ORDER:
        bucket = found.get(key)
        if bucket is None:
            continue
        if bucket.get("unlimited"):
            bars.append(gauge(label, None, None, "", unlimited=True))
            continue
        total = bucket.get("totalValue", {}).get("amount", 0)
        if total <= 0:
            continue
        bars.append(gauge(label, bucket["remainingValue"]["amount"], total, bucket["remainingValue"]["units"]))
    return bars


def data_fix(addons: list[Offer]) -> Offer | None:
    """The cheapest add-on on sale that gives home data (roaming data does not lift a data block)."""
    giving = [a for a in addons if "data" in a.allowances and a.price_minor is not None]
    return min(giving, key=lambda a: (a.price_minor, a.id), default=None)


def line_card(product: dict[str, Any], buckets: list[dict[str, Any]], daily: dict[str, Any] | None,
              addons: list[Offer]) -> LineCard:
    """The card of one line from its product, its buckets, its daily usage and the add-ons on sale."""
    chars = characteristics(product)
    state = chars.get("subscriptionState") or "pending"
    reason = chars.get("blockedReason") if state == "blocked" else None
    change = chars.get("pendingPlanChange")
    pending = None
    if isinstance(change, dict):
        price = change.get("price")
        pending = PendingChange(plan=change["productOffering"].get("name") or change["productOffering"]["id"],
                                price=money(round(float(price["value"]) * 100), price.get("unit", "SGD"))
                                if price else None)
    offering = product.get("productOffering", {})
    return LineCard(
        id=product["id"], msisdn=chars.get("msisdn", ""), plan_id=offering.get("id", ""),
        plan=offering.get("name") or offering.get("id", ""), state=state,
        state_words=STATE_WORDS.get(state, state), price=plan_price(product),
        period_days=int(chars.get("periodDays") or 30),
        renews_on=day(chars.get("periodEnd")) if state in ("active", "blocked") else None, pending=pending,
        blocked_reason=BLOCKED_WORDS.get(reason, f"This line is paused ({reason}).") if reason else None,
        fix=data_fix(addons) if reason == "data_exhausted" else None, fix_renew=reason == "renewal_declined",
        gauges=gauges(buckets) if state in LIVE else [],
        charts=usage_charts(daily, ident=f"usage-{product['id']}") if daily and state in LIVE else [])

