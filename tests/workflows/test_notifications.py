"""Customer notifications (#17 item 5) from real flows: the audit rows they leave, through the notifier, into the mailbox.

Each test drives a line through the real API and workflows and checks the dev mailbox and the TMF683
interactions: the right mails, the right numbers, exactly once. The first runs end to end (the event
plane's notifier subscription mails by itself while time moves on the time-skipping server, then a
redelivery of the whole log through `activities.notifications.handle_events` adds nothing); the last
hands the rows itself to fail a mail on purpose.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from activities.notifications import handle_events
from tests.support import mailbox
from tests.support.event_listener import waking
from tests.support.factories import DECLINE, ready_customer
from tests.support.polling import until
from tests.workflows.order_helpers import place_order, rows, wait_order
from tests.workflows.subscription_helpers import (
    GB,
    fast_forward,
    line,
    open_line,
    start_line,
    subscription_queue,  # noqa: F401 - the `sub_queue` fixture
    use_data,
)

INTERACTIONS = "/tmf-api/partyInteraction/v4/partyInteraction"
OPS = "/bss-api/v1/subscription"


async def notify(db: AsyncEngine, since: int = 0) -> int:
    """Hand every audit row after `since` to the notifier twice; return the last id handed."""
    events = await rows(db, "SELECT id, event_type, aggregate_type, aggregate_id, payload, occurred_at "
                            "FROM audit.domain_event WHERE id > :since ORDER BY id", since=since)
    await handle_events(events)
    await handle_events(events)  # a redelivery decides and mails nothing new
    return events[-1]["id"] if events else since


async def email_of(db: AsyncEngine, customer_id: str) -> str:
    """The customer's email address."""
    (row,) = await rows(db, "SELECT lower(value) AS v FROM crm.contact_medium WHERE customer_id = :c "
                            "AND medium_type = 'email'", c=customer_id)
    return row["v"]


def mails(to: str) -> list[tuple[str, str]]:
    """(kind, subject) of every notification mail to `to`, oldest first."""
    return [(m["kind"].removeprefix("notification."), m["subject"]) for m in mailbox.mails(to)
            if m["kind"].startswith("notification.")]


def text_of(to: str, kind: str) -> str:
    """The body of the one mail of `kind` to `to`."""
    (found,) = mailbox.mails(to, f"notification.{kind}")
    return found["text"]


async def interactions(api: httpx.AsyncClient, customer_id: str) -> list[dict[str, Any]]:
    """The customer's outbound email interactions, oldest first."""
    listed = await api.get(INTERACTIONS, params={"relatedParty.id": customer_id, "limit": 100})
    assert listed.status_code == 200, listed.text
    found = [i for i in listed.json() if i["direction"] == "outbound" and i["channel"][0]["name"] == "email"]
    return sorted(found, key=lambda i: i["id"])


async def delivered(to: str, count: int) -> list[tuple[str, str]]:
    """Wait until the event plane has mailed `count` notifications to `to`; return them."""
    async def arrived() -> list[tuple[str, str]]:
        return found if len(found := mails(to)) >= count else []
    return await until(arrived, f"{count} notifications mailed to {to} through the event plane", timeout=20)


async def test_order_bundle_block_unblock_and_price_change_each_mail_once(seeded_api, seeded_db, temporal_env):
    async with waking(temporal_env.client, seeded_db, kinds=("notifier",)):
        await _order_bundle_block_unblock_and_price_change(seeded_api, seeded_db)
    # A redelivery of the whole log (the plane is at least once) decides and mails nothing new.
    before = mailbox.mails()
    await notify(seeded_db)
    assert mailbox.mails() == before


async def _order_bundle_block_unblock_and_price_change(seeded_api: httpx.AsyncClient, seeded_db: AsyncEngine) -> None:
    customer_id = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer_id, offering_id="PLAN_S")
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "completed", done
    sub = done["productOrderItem"][0]["product"]["id"]
    to = await email_of(seeded_db, customer_id)
    await delivered(to, 1)  # the order's mail, before the price change below exists
    await use_data(seeded_api, seeded_db, sub, 4000)  # 78 %: nothing yet
    await use_data(seeded_api, seeded_db, sub, 96)    # 4,096 of 5,120 MB: exactly 80 %
    await use_data(seeded_api, seeded_db, sub, 100)   # past 80 % again: no second mail this period
    await use_data(seeded_api, seeded_db, sub, 2 * GB)  # charged the last 924 MB: 100 %, and the line blocks
    migration = await seeded_api.post("/catalog-api/v1/priceMigration", json={
        "offeringId": "PLAN_S", "noticeDays": 30, "price": {"unit": "SGD", "value": 12.5}})
    assert migration.status_code == 201, migration.text
    await delivered(to, 5)

    row = await line(seeded_db, sub)
    (plan,) = await rows(seeded_db, "SELECT name FROM catalog.product_offering WHERE id = 'PLAN_S'")
    offering, effective = plan["name"], dt.datetime.fromisoformat(migration.json()["effectiveFrom"])
    (profile,) = await rows(seeded_db, "SELECT smdp_address, matching_id FROM inventory.esim_profile "
                                       "WHERE iccid = :i", i=row["iccid"])
    assert mails(to) == [
        ("order_completed", f"Your line {row['msisdn']} is ready"),
        ("bundle_used", f"80% of your data used on {row['msisdn']}"),
        ("bundle_used", f"100% of your data used on {row['msisdn']}"),
        ("line_blocked", f"Your line {row['msisdn']} is blocked"),
        ("price_change", f"The price of {offering} changes from {effective.date()}"),
    ]
    ready = text_of(to, "order_completed")
    assert f"LPA:1${profile['smdp_address']}${profile['matching_id']}" in ready
    assert row["msisdn"] in ready and row["iccid"] in ready and order["id"] in ready
    used = [m["text"] for m in mailbox.mails(to, "notification.bundle_used")]
    assert "You have used 4,096 of 5,120 MB (80%)" in used[0] and "1,024 MB are left" in used[0]
    assert "You have used 5,120 of 5,120 MB (100%)" in used[1]
    blocked = text_of(to, "line_blocked")
    assert "your data allowance is used up" in blocked and "buy a data top-up" in blocked
    change = text_of(to, "price_change")
    assert f"from SGD 10.00 to SGD 12.50 per period from {effective.date()}" in change
    # The first renewal at or after the effective instant pays it (activated a moment before: the second).
    renewal = row["current_period_end"]
    applies = renewal if renewal >= effective else renewal + dt.timedelta(days=30)
    assert f"Your line {row['msisdn']} pays the new price from its renewal on {applies.date()}." in change

    # A line ordered after the announcement, before it applies, hears of it with its order (once).
    late_customer = await ready_customer(seeded_api)
    late = await wait_order(seeded_api, (await place_order(seeded_api, late_customer, offering_id="PLAN_S"))["id"])
    assert late["state"] == "completed", late
    late_to = await email_of(seeded_db, late_customer)
    await delivered(late_to, 2)
    assert [kind for kind, _ in mails(late_to)] == ["order_completed", "price_change"]
    assert f"from SGD 10.00 to SGD 12.50 per period from {effective.date()}" in text_of(late_to, "price_change")

    # A top-up lifts the data block: the customer hears that too, once.
    topped = await seeded_api.post(f"{OPS}/{sub}/vas", json={"offeringId": "VAS_DATA_1GB", "requestId": "n-1"})
    assert topped.status_code == 201, topped.text
    assert [kind for kind, _ in await delivered(to, 6)][-1] == "line_unblocked"
    assert len(mails(to)) == 6

    # Each mail is a TMF683 interaction on the customer with the same wording.
    logged = await interactions(seeded_api, customer_id)
    assert [(i["reason"], i["description"]) for i in logged] == [
        (m["subject"], m["text"]) for m in mailbox.mails(to) if m["kind"].startswith("notification.")]
    assert {i["status"] for i in logged} == {"completed"}


async def test_renewal_mails_reminder_renewed_and_declined_with_amount_and_card(seeded_api, seeded_db,
                                                                                 temporal_env, sub_queue):
    async with waking(temporal_env.client, seeded_db, kinds=("notifier",)):
        paid, unpaid = await open_line(seeded_api, "PLAN_M"), await open_line(seeded_api, "PLAN_M", card=DECLINE)
        paid_row, unpaid_row = await line(seeded_db, paid), await line(seeded_db, unpaid)
        paid_to = await email_of(seeded_db, paid_row["customer_id"])
        unpaid_to = await email_of(seeded_db, unpaid_row["customer_id"])
        period_end = paid_row["current_period_end"].date()
        handles = [await start_line(temporal_env, sub_queue, sub) for sub in (paid, unpaid)]
        for handle in handles:  # three days before the period end: the workflow's reminder timer
            await fast_forward(temporal_env, handle, days=27, hours=1)
        assert await delivered(paid_to, 1) == [
            ("renewal_reminder", f"Your line {paid_row['msisdn']} renews on {period_end}")]
        reminder = text_of(paid_to, "renewal_reminder")
        assert f"renews on {period_end} for SGD 25.00" in reminder and "charge your Visa card ending 4242" in reminder
        await delivered(unpaid_to, 1)
        assert "charge your Visa card ending 0002" in text_of(unpaid_to, "renewal_reminder")

        for handle in handles:
            await fast_forward(temporal_env, handle, days=3)
        assert [kind for kind, _ in await delivered(paid_to, 2)] == ["renewal_reminder", "renewed"]
        assert [kind for kind, _ in await delivered(unpaid_to, 2)] == ["renewal_reminder", "renewal_declined"]
    await notify(seeded_db)  # a redelivery: nothing new
    paid_row, unpaid_row = await line(seeded_db, paid), await line(seeded_db, unpaid)
    assert len(mails(paid_to)) == len(mails(unpaid_to)) == 2
    renewed = text_of(paid_to, "renewed")
    start, end = paid_row["current_period_start"].date(), paid_row["current_period_end"].date()
    assert f"renewed for SGD 25.00: the new period runs from {start} to {end}" in renewed
    declined = text_of(unpaid_to, "renewal_declined")
    assert f"We could not charge SGD 25.00 for the renewal of your line {unpaid_row['msisdn']}" in declined
    assert "card ending 0002" in declined and "update your card and renew the line" in declined
    assert len(await interactions(seeded_api, unpaid_row["customer_id"])) == 2
    (reminded,) = await rows(seeded_db, "SELECT payload FROM audit.domain_event WHERE aggregate_id = :s AND "
                                        "event_type = 'subscription.renewal_reminder_due'", s=paid)
    assert (reminded["payload"]["periodNumber"], reminded["payload"]["priceMinor"]) == (1, 2500)


async def test_a_mail_that_fails_is_sent_on_the_next_delivery_and_its_interaction_is_kept_once(
        seeded_api, seeded_db, temporal_env, sub_queue, monkeypatch):
    since = (await rows(seeded_db, "SELECT coalesce(max(id), 0) AS m FROM audit.domain_event"))[0]["m"]
    sub = await open_line(seeded_api, "PLAN_S")
    await start_line(temporal_env, sub_queue, sub)
    await use_data(seeded_api, seeded_db, sub, 6 * GB)  # 100 % and blocked: two notices
    row = await line(seeded_db, sub)
    to = await email_of(seeded_db, row["customer_id"])
    events = await rows(seeded_db, "SELECT id, event_type, aggregate_type, aggregate_id, payload, occurred_at "
                                   "FROM audit.domain_event WHERE id > :since ORDER BY id", since=since)

    async def down(*_: object, **__: object) -> str:
        raise OSError("mail server down")

    monkeypatch.setattr("core.mailer.send", down)
    with pytest.raises(OSError):  # the delivery fails, so the event plane hands the rows again
        await handle_events(events)
    assert mails(to) == []  # decided and logged, not mailed
    assert len(await interactions(seeded_api, row["customer_id"])) == 2
    monkeypatch.undo()
    await handle_events(events)
    await handle_events(events)
    assert [kind for kind, _ in mails(to)] == ["bundle_used", "line_blocked"]
    assert len(await interactions(seeded_api, row["customer_id"])) == 2
    unsent = await rows(seeded_db, "SELECT count(*) AS n FROM crm.notification WHERE customer_id = :c "
                                   "AND sent_at IS NULL", c=row["customer_id"])
    assert unsent[0]["n"] == 0
    # An order that changed an existing line (TMF622 modify/delete) announces no new eSIM.
    await handle_events([{"id": events[-1]["id"], "event_type": "order.completed", "aggregate_type": "order",
                          "aggregate_id": "ORD-NOT-THE-LINES", "payload": {"subscriptionId": sub},
                          "occurred_at": events[-1]["occurred_at"]}])
    assert [kind for kind, _ in mails(to)] == ["bundle_used", "line_blocked"]
