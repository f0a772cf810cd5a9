"""Which audit event makes which notification, and the exact numbers in them (pure)."""

from __future__ import annotations

import datetime as dt

from domain.notifications import NotificationKind, amount, decide, first_renewal_from, threshold

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def rated(charged: int, after: int, total: int = 1000, period: int | None = 1) -> dict:
    payload = {"sub": "SUB-1", "allowance": "data", "charged": charged, "after": after, "total": total}
    return {"id": 7, "event_type": "usage.rated", "aggregate_type": "usage", "aggregate_id": "USG-1",
            "payload": payload | ({"period": period} if period is not None else {})}


def test_a_bundle_alert_fires_on_the_event_that_crosses_a_threshold_and_names_the_highest():
    assert decide(rated(10, 210)) == []                      # 790 used: below 80 %
    (at80,) = decide(rated(10, 200))                         # 800 used: exactly 80 %
    assert (at80.kind, at80.key, at80.facts["percent"], at80.facts["used"]) == (
        NotificationKind.BUNDLE_USED, "SUB-1:data:1:80:bundle_used", 80, 800)
    assert decide(rated(10, 190)) == []                      # already past 80 %
    (both,) = decide(rated(900, 0))                          # 100 → 1,000 used: 80 and 100 crossed, 100 told
    assert both.facts["percent"] == 100 and both.key == "SUB-1:data:1:100:bundle_used"
    assert decide(rated(10, -1, total=-1)) == [] and decide(rated(10, 0, period=None)) == []
    assert threshold(5120, 80) == 4096 and threshold(3, 80) == 3


def test_a_block_is_a_declined_renewal_or_a_blocked_line_by_its_reason():
    def block(event: str, payload: dict) -> list:
        return decide({"id": 9, "event_type": event, "aggregate_type": "subscription", "aggregate_id": "SUB-1",
                       "payload": payload})
    (declined,) = block("subscription.blocked", {"from": "active", "to": "blocked", "reason": "renewal_declined"})
    (exhausted,) = block("subscription.blocked", {"reason": "data_exhausted", "usageId": "USG-1"})
    (changed,) = block("subscription.block_reason_changed", {"from": "data_exhausted", "to": "renewal_declined"})
    assert [n.kind for n in (declined, exhausted, changed)] == [
        NotificationKind.RENEWAL_DECLINED, NotificationKind.LINE_BLOCKED, NotificationKind.RENEWAL_DECLINED]
    assert declined.key == "9:renewal_declined" and exhausted.facts["blockReason"] == "data_exhausted"
    assert block("subscription.block_reason_changed", {"to": "data_exhausted"}) == []
    assert block("subscription.vas.granted", {}) == []


def test_amounts_are_exact_from_minor_units_and_the_new_price_applies_at_the_first_renewal_after_it():
    assert [amount(2500, "SGD"), amount(123456789, "SGD"), amount(5, "SGD"), amount(1200, "JPY")] == [
        "SGD 25.00", "SGD 1,234,567.89", "SGD 0.05", "JPY 1,200"]
    end = T0 + dt.timedelta(days=10)
    assert first_renewal_from(end, 30, T0 + dt.timedelta(days=10)) == end
    assert first_renewal_from(end, 30, T0 + dt.timedelta(days=11)) == end + dt.timedelta(days=30)
    assert first_renewal_from(end, 30, T0 + dt.timedelta(days=71)) == end + dt.timedelta(days=90)


def test_a_renewal_reminder_is_keyed_by_line_and_period_and_a_text_payload_is_read():
    row = {"id": 11, "event_type": "subscription.renewal_reminder_due", "aggregate_type": "subscription",
           "aggregate_id": "SUB-1", "payload": '{"periodNumber": 3, "priceMinor": 2500, "currency": "SGD"}'}
    (notice,) = decide(row)
    assert (notice.kind, notice.key, notice.facts["priceMinor"]) == (
        NotificationKind.RENEWAL_REMINDER, "SUB-1:3:renewal_reminder", 2500)
    assert decide(row | {"id": 12})[0].key == notice.key  # recorded twice, told once
