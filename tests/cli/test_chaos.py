"""`bss chaos` on a private `bss up` stack: one seeded round with a worker kill and an API kill, gates 0.

Then the gates themselves: a second approved charge for an order, an approval in the gateway's
books that no payment row records, and a balance off by one MB are each planted in that stack's
database and must be reported.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import asyncpg
import pytest

from cli.chaos import gates
from tests.support.stack import Stack, running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A seeded stack started by `bss up` for the module; always stopped."""
    with running_stack(tmp_path_factory.mktemp("chaos-stack")) as stack:
        seeded = stack.bss("seed")
        assert seeded.returncode == 0, seeded.stderr
        yield stack


@pytest.fixture(scope="module")
def chaos_run(stack: Stack) -> dict:
    """One round of `bss chaos` killing the worker and the API under load; its JSON report."""
    before = {name: stack.pid(name) for name in ("worker", "api")}
    result = stack.bss("chaos", "--rounds", "1", "--seed", "7", "--duration", "3", "--orders", "2",
                       "--streams", "2", "--faults", "kill-worker,kill-api", "--settle", "60", "--json", timeout=300)
    report = json.loads(result.stdout)
    report["exitCode"], report["pidsBefore"] = result.returncode, before
    return report


def test_one_round_with_a_worker_and_an_api_kill_keeps_every_gate_at_zero(stack: Stack, chaos_run: dict) -> None:
    assert chaos_run["exitCode"] == 0, chaos_run
    assert chaos_run["green"] and {g: v["count"] for g, v in chaos_run["gates"].items()} == {
        "stranded orders": 0, "double charges": 0, "balance drift": 0, "replay failures": 0}
    (round_,) = chaos_run["rounds"]
    struck = {f["fault"]: f for f in round_["faults"]}
    assert set(struck) == {"kill-worker", "kill-api"}
    # The processes killed were the stack's, and `up` replaced them.
    for fault, name in (("kill-worker", "worker"), ("kill-api", "api")):
        assert struck[fault]["pid"] == chaos_run["pidsBefore"][name]
        assert stack.pid(name) not in (None, struck[fault]["pid"])
    assert round_["load"]["completed"] >= 1 and round_["load"]["unexpected"] == [], round_
    assert chaos_run["replayed"] >= 2 * round_["load"]["completed"]  # each order's workflow and its line's
    code, rows = stack.status()
    assert code == 0, rows


async def test_the_gates_report_a_planted_double_charge_an_unrecorded_approval_and_a_drift(
        stack: Stack, chaos_run: dict) -> None:
    conn = await asyncpg.connect(stack.dsn)
    ledger = stack.home / "payment-gateway.sqlite"
    try:
        paid = await conn.fetchrow("SELECT p.*, s.id AS subscription_id FROM payment.payment p "
                                   "JOIN subscription.subscription s ON s.order_id = p.reference "
                                   "WHERE p.purpose = 'activation' AND p.status = 'approved' ORDER BY p.id LIMIT 1")
        order, line = paid["reference"], paid["subscription_id"]
        assert await gates.double_charges(conn, ledger, [order], [line]) == []
        assert await gates.balance_drift(conn, [line]) == []

        await conn.execute(
            "INSERT INTO payment.payment (id, customer_id, payment_method_id, amount_minor, currency, status, "
            "idempotency_key, purpose, reference, created_at) SELECT 'PAY-PLANTED', customer_id, payment_method_id, "
            "amount_minor, currency, 'approved', idempotency_key || ':again', purpose, reference, created_at "
            "FROM payment.payment WHERE id = $1", paid["id"])
        with sqlite3.connect(ledger) as books:
            books.execute("INSERT INTO charge (idempotency_key, token, status, amount_minor, currency, reference) "
                          "VALUES (?, 'tok', 'approved', 1000, 'SGD', 'ch_planted')", (f"sub-{line}:renewal:99",))
        await conn.execute("UPDATE subscription.bundle_balance SET consumed = consumed + 1 "
                           "WHERE subscription_id = $1 AND allowance_type = 'data'", line)

        assert await gates.double_charges(conn, ledger, [order], [line]) == [
            f"order {order} charged 2 times",
            f"gateway charged 1000 under sub-{line}:renewal:99, recorded nowhere"]
        (drift,) = await gates.balance_drift(conn, [line])
        assert drift.startswith(f"{line} data: remaining ") and "expected" in drift
    finally:
        await conn.close()
