"""End to end: scenario time on a real stack started with `bss up --time-skipping`.

`bss clock advance D` must move the API's clock, the worker's clock and every open workflow by the
same D, so a line activated on (scenario) day 5 renews exactly once when the clock passes day 35,
and once more at day 65 — and a line left alone in real time never renews on its own.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import asyncpg
import httpx
import pytest

from tests.support.factories import ready_customer
from tests.support.stack import BSS, Stack, running_stack, stack_env
from tests.workflows.order_helpers import place_order, wait_order

DAY = timedelta(days=1)
SLACK = timedelta(seconds=30)
CLOCK = "/ops-api/v1/clock"  # wall time that passes between two readings of the clock in this test


@pytest.fixture(scope="module")
def ts_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A seeded stack in scenario-time mode, once for the module; always stopped."""
    with running_stack(tmp_path_factory.mktemp("ts-stack"), "--time-skipping") as stack:
        seeded = stack.bss("seed")
        assert seeded.returncode == 0, seeded.stderr
        yield stack


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def _rows(stack: Stack, sql: str, *args: object) -> list[dict]:
    conn = await asyncpg.connect(stack.dsn)
    try:
        return [dict(row) for row in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def _renewals(stack: Stack, subscription_id: str) -> list[dict]:
    return await _rows(stack, "SELECT period_number, period_start, period_end, renewed_at FROM subscription.renewal "
                              "WHERE subscription_id = $1 ORDER BY period_number", subscription_id)


async def _money(stack: Stack, subscription_id: str) -> tuple[list[str], list[str]]:
    """(approved renewal charges, bills) of the line, by idempotency key."""
    charges = await _rows(stack, "SELECT idempotency_key FROM payment.payment WHERE reference = $1 "
                                 "AND status = 'approved' ORDER BY id", subscription_id)
    bills = await _rows(stack, "SELECT kind FROM billing.customer_bill WHERE subscription_id = $1 ORDER BY id",
                        subscription_id)
    return [c["idempotency_key"] for c in charges], [b["kind"] for b in bills]


async def _line(stack: Stack, subscription_id: str) -> dict:
    (row,) = await _rows(stack, "SELECT state, period_number, current_period_start, current_period_end "
                                "FROM subscription.subscription WHERE id = $1", subscription_id)
    return row


def _api(stack: Stack) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack.api_url, timeout=90, headers={"X-BSS-API-Token": stack.token()})


async def _now(stack: Stack) -> dict:
    async with _api(stack) as api:
        response = await api.get(CLOCK)
    assert response.status_code == 200, response.text
    return response.json()


async def _advance(stack: Stack, duration: str, cli: bool = True) -> dict:
    """Advance through `bss clock advance` (or the endpoint it calls) and check every workflow followed."""
    if cli:
        result = await asyncio.to_thread(stack.bss_json, "clock", "advance", duration)
    else:
        async with _api(stack) as api:
            response = await api.post(f"{CLOCK}/advance", json={"duration": duration})
        assert response.status_code == 200, response.text
        result = response.json()
    workflows = result["workflows"]
    assert not workflows["timedOut"] and not workflows["failed"], result
    return result


async def _until_renewals(stack: Stack, subscription_id: str, count: int, timeout: float = 15.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while len(renewals := await _renewals(stack, subscription_id)) < count:
        assert time.monotonic() < deadline, f"{subscription_id} has {len(renewals)} renewals, not {count}"
        await asyncio.sleep(0.1)
    return renewals


async def test_advance_moves_every_clock_and_renews_once_per_boundary(ts_stack: Stack) -> None:
    start = await _now(ts_stack)
    assert start["timeSkipping"] is True and start["offsetSeconds"] == 0

    # Before any line exists: the offset alone moves, and the worker's clock must follow it.
    early = await _advance(ts_stack, "5d", cli=False)
    assert early["offsetSeconds"] == 5 * 86400 and early["advancedBy"] == "5d"
    assert abs(_at(early["now"]) - _at(start["now"]) - 5 * DAY) < SLACK

    async with _api(ts_stack) as api:
        customer = await ready_customer(api)
        order = await wait_order(api, (await place_order(api, customer))["id"])
    assert order["state"] == "completed", order
    subscription_id = order["productOrderItem"][0]["product"]["id"]
    activated = await _line(ts_stack, subscription_id)
    # Activation ran in the worker on scenario time: its period starts on day 5, not today.
    assert abs(activated["current_period_start"] - _at(early["now"])) < SLACK
    assert activated["current_period_end"] - activated["current_period_start"] == 30 * DAY

    # Idle in real time, the line must not skip ahead to its renewal on its own.
    # A deliberate quiet window, not a wait for a state: a skipping workflow would be at its renewal within ~0.1 s.
    await asyncio.sleep(0.5)
    assert await _renewals(ts_stack, subscription_id) == []

    before = await _now(ts_stack)
    first = await _advance(ts_stack, "30d")
    after = await _now(ts_stack)
    assert first["workflows"]["moved"] >= 1 and first["offsetSeconds"] == 35 * 86400
    assert abs(_at(after["now"]) - _at(before["now"]) - 30 * DAY) < SLACK

    renewals = await _until_renewals(ts_stack, subscription_id, 1)
    # A deliberate quiet window after the renewal was seen: a duplicate would land within it.
    await asyncio.sleep(0.5)
    renewals = await _renewals(ts_stack, subscription_id)
    assert [r["period_number"] for r in renewals] == [2], renewals
    (renewal,) = renewals
    assert renewal["period_start"] == activated["current_period_end"]
    assert renewal["renewed_at"] - renewal["period_start"] < SLACK, "renewed at the boundary, by the line's clock"
    charges, bills = await _money(ts_stack, subscription_id)
    assert charges == [f"sub-{subscription_id}:renewal:2"]
    assert bills == ["activation", "renewal"]
    line = await _line(ts_stack, subscription_id)
    assert line["state"] == "active" and line["current_period_end"] == activated["current_period_end"] + 30 * DAY

    # Not yet at the next boundary: nothing more happens.
    await _advance(ts_stack, "12h", cli=False)
    assert len(await _renewals(ts_stack, subscription_id)) == 1

    await _advance(ts_stack, "30d")
    renewals = await _until_renewals(ts_stack, subscription_id, 2)
    # A deliberate quiet window after the second renewal was seen: a duplicate would land within it.
    await asyncio.sleep(0.5)
    renewals = await _renewals(ts_stack, subscription_id)
    assert [r["period_number"] for r in renewals] == [2, 3], renewals
    assert renewals[1]["period_start"] == renewals[0]["period_end"]
    charges, bills = await _money(ts_stack, subscription_id)
    assert charges == [f"sub-{subscription_id}:renewal:2", f"sub-{subscription_id}:renewal:3"]
    assert bills == ["activation", "renewal", "renewal"]


async def test_clock_now_shows_the_offset_the_advances_left(ts_stack: Stack) -> None:
    body = await _now(ts_stack)
    assert set(body) == {"now", "wallClock", "offset", "offsetSeconds", "timeSkipping"}
    assert _at(body["now"]) - _at(body["wallClock"]) == timedelta(seconds=body["offsetSeconds"])
    result = ts_stack.bss("clock", "now")
    assert result.returncode == 0, result.stderr
    assert "scenario time" in result.stdout
    assert (f"+{body['offset']}" if body["offsetSeconds"] else "none") in result.stdout


def test_time_skipping_is_refused_in_production(tmp_path) -> None:
    env = stack_env(tmp_path) | {"BSS_ENV": "production"}
    env |= {f"BSS_API_TOKEN_{name}": f"prod-token-{name.lower()}-0123456789abcdef"
            for name in ("CLI", "SELF_SERVE", "CSR", "AGENT", "SYSTEM")}
    result = subprocess.run([str(BSS), "up", "--time-skipping", "--json"], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode != 0
    assert "BSS_ENV=production" in result.stderr and "dev-only" in result.stderr
    assert result.stdout == "", "nothing reported as started"
    home = tmp_path / "home"
    assert not list(home.glob("run/*.pid")) and not (home / "pg").exists(), "nothing was started"
