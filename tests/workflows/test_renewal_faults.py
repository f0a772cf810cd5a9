"""A renewal that cannot be charged never holds the line (issue #13, item 2).

The card ending 0119 makes the gateway simulator answer `error` on every attempt. The scheduled
renewal tries it a bounded number of times, then blocks the line as for a decline; while it is
still retrying, the line lock is free, so terminate answers at once and a top-up is told to come
back instead of waiting for the outage.
"""

from __future__ import annotations

import time

from tests.support.factories import GATEWAY_ERROR
from tests.workflows.order_helpers import rows
from tests.workflows.subscription_helpers import (
    charges,
    eventually,
    fast_forward,
    line,
    open_line,
    start_line,
    subscription_queue,  # noqa: F401 - the `sub_queue` fixture
)
from workflows.subscription_money import RENEWAL_ERRORS

OPS = "/bss-api/v1/subscription"


async def charge_attempts(handle) -> int:
    """The attempt number of the renewal charge the workflow waits on (0 when none is pending)."""
    pending = (await handle.describe()).raw_description.pending_activities
    return max((a.attempt for a in pending if a.activity_type.name == "payment_charge"), default=0)


async def test_a_card_that_always_errors_is_tried_a_bounded_number_of_times_then_the_line_blocks(
        seeded_api, seeded_db, temporal_env, sub_queue):
    sub = await open_line(seeded_api, "PLAN_S", card=GATEWAY_ERROR)
    handle = await start_line(temporal_env, sub_queue, sub)
    await fast_forward(temporal_env, handle, days=31)  # the retries' backoff is skipped inside the window
    await eventually(lambda: _state_is(seeded_db, sub, "blocked"))
    row = await line(seeded_db, sub)
    assert (row["state"], row["blocked_reason"], row["period_number"]) == ("blocked", "renewal_declined", 1)
    errors = await charges(seeded_db, sub, status="error")
    assert len(errors) == RENEWAL_ERRORS, errors  # one error row per attempt, no more
    assert await charges(seeded_db, sub) == []  # nothing approved, nothing to refund
    # Given up on for good: the gateway took nothing under the key, and no late attempt may take anything now.
    (intent,) = await rows(seeded_db, "SELECT state, gateway_errors FROM payment.charge_intent WHERE reference = :s",
                           s=sub)
    assert (intent["state"], intent["gateway_errors"]) == ("abandoned", RENEWAL_ERRORS)
    (blocked,) = await rows(seeded_db, "SELECT payload FROM audit.domain_event WHERE aggregate_id = :s "
                                       "AND event_type = 'subscription.blocked'", s=sub)
    assert blocked["payload"]["cause"] == "renewal.payment_failed"
    await fast_forward(temporal_env, handle, days=2)  # the workflow no longer retries the unpaid period
    assert len(await charges(seeded_db, sub, status="error")) == RENEWAL_ERRORS
    assert await charge_attempts(handle) == 0


async def test_while_the_renewal_retries_terminate_answers_at_once_and_a_top_up_is_told_to_wait(
        seeded_api, seeded_db, temporal_env, sub_queue):
    sub = await open_line(seeded_api, "PLAN_S", card=GATEWAY_ERROR)
    handle = await start_line(temporal_env, sub_queue, sub)
    # Just past the period end: the first attempts fail inside the window, the later backoffs run in real time.
    await fast_forward(temporal_env, handle, days=30, seconds=5)
    await eventually(lambda: _retrying(handle), timeout=30)
    started = time.monotonic()
    topup = await seeded_api.post(f"{OPS}/{sub}/vas", json={"offeringId": "VAS_DATA_1GB", "requestId": "t-1"})
    assert topup.status_code == 422 and topup.json()["code"] == "subscription.vas_purchase.renewal_pending", topup.text
    assert time.monotonic() - started < 2.0
    started = time.monotonic()
    ended = await seeded_api.post(f"{OPS}/{sub}/terminate", json={})
    assert ended.status_code == 200, ended.text
    assert time.monotonic() - started < 2.0
    assert (await line(seeded_db, sub))["state"] == "terminated"
    assert await charges(seeded_db, sub) == []  # no charge, the top-up's included


async def _state_is(db, sub: str, state: str) -> bool:
    return (await line(db, sub))["state"] == state


async def _retrying(handle) -> bool:
    return await charge_attempts(handle) >= 2
