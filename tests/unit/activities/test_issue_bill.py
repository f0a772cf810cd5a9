"""`issue_bill`: one bill per charge, exact amounts, idempotent on the key, matched to its payment.

Lines and payments are inserted with plain SQL (the order and payment slices own the real flows).
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import text

from activities.billing import issue_bill
from core.errors import Conflict, NotFound, PolicyViolation
from domain.billing import BillLine, IssueBill

START = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
END = START + dt.timedelta(days=30)


async def _line(db, sub_id: str = "SUB-000001", customer: str = "CUST-000001") -> str:
    async with db.begin() as conn:
        await conn.execute(text(
            "INSERT INTO subscription.subscription (id, customer_id, offering_id, msisdn, state, price_minor)"
            " VALUES (:id, :c, 'PLAN_M', :m, 'active', 2500)"), {"id": sub_id, "c": customer, "m": f"9{sub_id[-7:]}"})
    return sub_id


async def _payment(db, pay_id: str, amount: int, customer: str = "CUST-000001", status: str = "approved") -> str:
    async with db.begin() as conn:
        await conn.execute(text(
            "INSERT INTO payment.payment (id, customer_id, payment_method_id, amount_minor, currency, status,"
            " idempotency_key, purpose) VALUES (:id, :c, 'PM-000001', :a, 'SGD', :s, :k, 'activation')"),
            {"id": pay_id, "c": customer, "a": amount, "s": status, "k": f"key-{pay_id}"})
    return pay_id


def _request(key: str = "order-ORD-000001:bill", payment_id: str | None = "PAY-000001", kind: str = "activation",
             lines: tuple[tuple[str, int, str], ...] = (("PLAN_M", 2500, "recurring"),),
             customer: str = "CUST-000001", sub: str = "SUB-000001") -> IssueBill:
    return IssueBill(idempotency_key=key, customer_id=customer, subscription_id=sub, kind=kind,
                     payment_id=payment_id, period_start=START, period_end=END,
                     lines=[BillLine(offering_id=o, description=f"{o} charge", amount_minor=a, currency="SGD",
                                     rate_type=r) for o, a, r in lines])


async def _rows(db, sql: str, **params: object) -> list[dict]:
    async with db.connect() as conn:
        return [dict(r._mapping) for r in (await conn.execute(text(sql), params)).all()]


async def _counts(db) -> tuple[int, int, int]:
    (row,) = await _rows(db, "SELECT (SELECT count(*) FROM billing.customer_bill) AS bills,"
                             " (SELECT count(*) FROM billing.applied_billing_rate) AS rates,"
                             " (SELECT count(*) FROM audit.domain_event) AS events")
    return row["bills"], row["rates"], row["events"]


async def test_a_bill_records_its_lines_and_exact_amounts(db):
    await _line(db)
    await _payment(db, "PAY-000001", 1500)
    issued = await issue_bill(_request(kind="vas", lines=(("VAS_DATA_1GB", 300, "oneTime"),
                                                          ("VAS_DATA_5GB", 1200, "one_time"))))
    assert (issued.amount_minor, issued.currency, issued.state, issued.created) == (1500, "SGD", "settled", True)
    (bill,) = await _rows(db, "SELECT * FROM billing.customer_bill")
    assert (bill["id"], bill["customer_id"], bill["subscription_id"], bill["kind"], bill["amount_minor"],
            bill["payment_id"], bill["state"]) == (issued.bill_id, "CUST-000001", "SUB-000001", "vas", 1500,
                                                   "PAY-000001", "settled")
    assert (bill["period_start"], bill["period_end"]) == (START, END)
    rates = await _rows(db, "SELECT * FROM billing.applied_billing_rate ORDER BY id")
    assert [(r["id"], r["offering_id"], r["amount_minor"], r["rate_type"], r["is_billed"]) for r in rates] == [
        (f"{issued.bill_id}-1", "VAS_DATA_1GB", 300, "one_time", True),
        (f"{issued.bill_id}-2", "VAS_DATA_5GB", 1200, "one_time", True)]
    (event,) = await _rows(db, "SELECT * FROM audit.domain_event")
    assert (event["event_type"], event["aggregate_type"], event["aggregate_id"]) == ("bill.issued", "bill",
                                                                                     issued.bill_id)
    assert event["payload"]["amountMinor"] == 1500 and event["payload"]["lines"] == 2


async def test_the_same_key_twice_gives_one_bill_and_one_audit_event(db):
    await _line(db)
    await _payment(db, "PAY-000001", 2500)
    first = await issue_bill(_request())
    again = await issue_bill(_request())
    assert again.bill_id == first.bill_id and (first.created, again.created) == (True, False)
    assert await _counts(db) == (1, 1, 1)


async def test_concurrent_retries_of_one_key_issue_one_bill(db):
    await _line(db)
    await _payment(db, "PAY-000001", 2500)
    results = await asyncio.gather(*(issue_bill(_request()) for _ in range(5)))
    assert len({r.bill_id for r in results}) == 1 and sum(r.created for r in results) == 1
    assert await _counts(db) == (1, 1, 1)


async def test_a_key_reused_for_a_different_bill_is_a_conflict(db):
    await _line(db)
    await _payment(db, "PAY-000001", 2500)
    await issue_bill(_request())
    with pytest.raises(Conflict) as exc:
        await issue_bill(_request(kind="renewal"))
    assert exc.value.code == "bill.idempotency_key_reused"
    assert await _counts(db) == (1, 1, 1)


async def test_a_payment_settles_one_bill_only(db):
    await _line(db)
    await _payment(db, "PAY-000001", 2500)
    await issue_bill(_request())
    with pytest.raises(Conflict) as exc:
        await issue_bill(_request(key="another-key"))
    assert exc.value.code == "bill.payment_already_billed"
    assert await _counts(db) == (1, 1, 1)


@pytest.mark.parametrize("payment, code", [
    ((2000, "CUST-000001", "approved"), "bill.issue.payment_matches"),
    ((2500, "CUST-000002", "approved"), "bill.issue.payment_matches"),
    ((2500, "CUST-000001", "declined"), "bill.issue.payment_matches"),
])
async def test_the_payment_must_cover_the_bill_exactly(db, payment, code):
    await _line(db)
    amount, customer, status = payment
    await _payment(db, "PAY-000001", amount, customer, status)
    with pytest.raises(PolicyViolation) as exc:
        await issue_bill(_request())
    assert exc.value.code == code
    assert await _counts(db) == (0, 0, 0)


async def test_refusals_write_nothing(db):
    await _line(db)
    with pytest.raises(PolicyViolation) as exc:
        await issue_bill(_request(payment_id=None))
    assert exc.value.code == "bill.issue.payment_required"
    with pytest.raises(PolicyViolation) as exc:
        await issue_bill(_request(lines=()))
    assert exc.value.code == "bill.issue.lines_required"
    with pytest.raises(PolicyViolation) as exc:
        await issue_bill(_request(lines=(("PLAN_M", -5, "recurring"),)))
    assert exc.value.code == "bill.issue.amount_non_negative"
    with pytest.raises(PolicyViolation) as exc:
        await issue_bill(_request(lines=(("PLAN_M", 2500, "recurring"),)).model_copy(update={"lines": [
            BillLine(offering_id="PLAN_M", description="x", amount_minor=100, currency="XYZ", rate_type="recurring"),
            BillLine(offering_id="PLAN_M", description="y", amount_minor=100, currency="SGD", rate_type="recurring")]}))
    assert {v.code for v in exc.value.violations} == {"bill.issue.currency_known", "bill.issue.single_currency"}
    with pytest.raises(PolicyViolation) as exc:
        await issue_bill(_request(customer="CUST-000009", payment_id=None, lines=(("PLAN_M", 0, "recurring"),)))
    assert exc.value.code == "bill.issue.subscription_of_customer"
    with pytest.raises(NotFound) as missing:
        await issue_bill(_request(sub="SUB-999999"))
    assert missing.value.code == "subscription.not_found"
    with pytest.raises(NotFound) as missing:
        await issue_bill(_request(payment_id="PAY-999999"))
    assert missing.value.code == "payment.not_found"
    assert await _counts(db) == (0, 0, 0)


async def test_a_free_bill_needs_no_payment(db):
    await _line(db)
    issued = await issue_bill(_request(payment_id=None, kind="plan_change", lines=(("PLAN_L", 0, "recurring"),)))
    assert (issued.amount_minor, issued.created) == (0, True)
    assert await _counts(db) == (1, 1, 1)


async def test_inside_a_workflow_refusals_are_final_and_writes_act_as_the_system(db):
    from temporalio.exceptions import ApplicationError
    from temporalio.testing import ActivityEnvironment

    env = ActivityEnvironment()
    with pytest.raises(ApplicationError) as exc:
        await env.run(issue_bill, _request())
    assert exc.value.non_retryable and exc.value.type == "subscription.not_found"
    await _line(db)
    await _payment(db, "PAY-000001", 2500)
    issued = await env.run(issue_bill, _request())
    (event,) = await _rows(db, "SELECT actor, channel FROM audit.domain_event WHERE aggregate_id = :b",
                           b=issued.bill_id)
    assert event["actor"] == "system" and event["channel"].startswith("system:")
