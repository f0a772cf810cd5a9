"""Long runs of one line: 90 days in one workflow run (dates asserted), continue-as-new (carried state), replay.

Date-asserting soaks stay inside one run (a large `can_every_renewals`), and the continue-as-new
test asserts carried state, not dates: in this server build the virtual clock shifts twice across
continue-as-new (notes/temporal.md §1.4 trap 2). Histories recorded here replay on today's code;
`BSS_RECORD_HISTORIES=1` adds them to `histories/subscription/`
(tests/workflows/history_manifest.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from core.temporal import client_interceptors
from tests.workflows.history_manifest import record
from tests.workflows.order_helpers import rows
from tests.workflows.subscription_helpers import (
    GB,
    balances,
    bills,
    charges,
    days,
    eventually,
    fast_forward,
    line,
    open_line,
    start_line,
    subscription_queue,  # noqa: F401 - the `sub_queue` fixture
    use_data,
)
from workers.factory import sandbox_runner
from workflows.subscription import SubscriptionWorkflow

OPS = "/bss-api/v1/subscription"
HISTORIES = Path(__file__).parent / "histories" / "subscription"
PLAN_M = {"data": (30 * GB, 0), "voice": (-1, 0), "sms": (-1, 0), "data_roaming": (500, 0)}


def _replayer() -> Replayer:
    return Replayer(workflows=[SubscriptionWorkflow], data_converter=pydantic_data_converter,
                    interceptors=client_interceptors(), workflow_runner=sandbox_runner())


async def _replays(history: WorkflowHistory, name: str) -> None:
    result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
    record(history, name, HISTORIES)  # with BSS_RECORD_HISTORIES=1, never over a recorded one


async def _buy(api, sub: str, offering: str, request: str) -> dict:
    response = await api.post(f"{OPS}/{sub}/vas", json={"offeringId": offering, "requestId": request})
    assert response.status_code == 201, response.text
    return response.json()


async def test_ninety_days_of_one_line_three_renewals_exact_money_and_balances(seeded_api, seeded_db, temporal_env,
                                                                               sub_queue):
    sub = await open_line(seeded_api, "PLAN_M")
    activated = (await line(seeded_db, sub))["activated_at"]
    handle = await start_line(temporal_env, sub_queue, sub)

    await use_data(seeded_api, seeded_db, sub, 10 * GB)
    await fast_forward(temporal_env, handle, days=10)
    await _buy(seeded_api, sub, "VAS_DATA_5GB", "top-1")                      # day 10
    assert (await balances(seeded_db, sub))["data"] == (35 * GB, 10 * GB)
    await fast_forward(temporal_env, handle, days=20, hours=1)                 # day 30: renewal 2
    assert await balances(seeded_db, sub) == PLAN_M                           # the top-up ended with its period
    await use_data(seeded_api, seeded_db, sub, 3 * GB)
    await fast_forward(temporal_env, handle, days=15)                          # day 45
    await _buy(seeded_api, sub, "VAS_UNLIMITED_DAY", "pass-1")
    assert (await balances(seeded_db, sub))["data"] == (-1, 3 * GB)
    await use_data(seeded_api, seeded_db, sub, 8 * GB)                         # free during the pass
    await fast_forward(temporal_env, handle, hours=25)                         # day 46: the pass lapsed
    assert (await balances(seeded_db, sub))["data"] == (30 * GB, 3 * GB)
    await fast_forward(temporal_env, handle, days=43, hours=23)                # day 90: renewals 3 and 4

    assert await charges(seeded_db, sub) == [
        (f"sub-{sub}:vas:top-1", 1200), (f"sub-{sub}:renewal:2", 2500), (f"sub-{sub}:vas:pass-1", 500),
        (f"sub-{sub}:renewal:3", 2500), (f"sub-{sub}:renewal:4", 2500)]
    assert await bills(seeded_db, sub) == [
        ("vas", f"sub-{sub}:vas:top-1", 1200), ("renewal", f"sub-{sub}:renewal:2", 2500),
        ("vas", f"sub-{sub}:vas:pass-1", 500), ("renewal", f"sub-{sub}:renewal:3", 2500),
        ("renewal", f"sub-{sub}:renewal:4", 2500)]
    assert await balances(seeded_db, sub) == PLAN_M
    row = await line(seeded_db, sub)
    assert (row["state"], row["period_number"], row["price_minor"]) == ("active", 4, 2500)
    # Periods are anchored on activation: no drift however late a timer fires.
    assert row["current_period_start"] - activated == days(90)
    assert row["current_period_end"] - activated == days(120)
    renewals = await rows(seeded_db, "SELECT period_number, kind, period_start FROM subscription.renewal "
                                     "WHERE subscription_id = :s ORDER BY period_number", s=sub)
    assert [(r["period_number"], r["kind"], r["period_start"] - activated) for r in renewals] == [
        (2, "scheduled", days(30)), (3, "scheduled", days(60)), (4, "scheduled", days(90))]
    snap = await handle.query(SubscriptionWorkflow.snapshot)
    assert (snap.renewals, snap.renewals_this_run, snap.next_renewal_at) == (3, 3, row["current_period_end"])
    await _replays(await handle.fetch_history(), "subscription_90_days")


async def test_continue_as_new_carries_renewals_balances_timers_and_request_ids(seeded_api, seeded_db,
                                                                              temporal_env, sub_queue):
    sub = await open_line(seeded_api, "PLAN_M")
    handle = await start_line(temporal_env, sub_queue, sub, can_every=1)
    first_run = handle.result_run_id
    bought = await _buy(seeded_api, sub, "VAS_DATA_1GB", "top-1")
    await fast_forward(temporal_env, handle, days=29, hours=22)
    await _buy(seeded_api, sub, "VAS_UNLIMITED_DAY", "pass-1")                # lapses after the boundary
    latest = temporal_env.client.get_workflow_handle(handle.id)
    await fast_forward(temporal_env, latest, hours=4)                          # the renewal, then continue-as-new

    async def new_run_snapshot():  # right after continue-as-new a query may briefly fail
        if (await latest.describe()).run_id == first_run:
            return None
        return await latest.query(SubscriptionWorkflow.snapshot)

    snap = await eventually(new_run_snapshot)
    paid = [k for k, _ in await charges(seeded_db, sub) if ":renewal:" in k]
    row = await line(seeded_db, sub)
    assert snap.renewals >= 1 and snap.renewals == len(paid) == row["period_number"] - 1
    assert snap.line.period_number == row["period_number"]
    assert {b.allowance_type: (b.total, b.consumed) for b in snap.line.balances} == await balances(seeded_db, sub)
    # A request served before continue-as-new is answered again, never charged again.
    again = await _buy(seeded_api, sub, "VAS_DATA_1GB", "top-1")
    assert again["replayed"] is True and again["paymentId"] == bought["paymentId"]
    assert [k for k, _ in await charges(seeded_db, sub) if ":vas:" in k] == [f"sub-{sub}:vas:top-1",
                                                                              f"sub-{sub}:vas:pass-1"]
    # The day pass's timer was carried over: it lapses in the new run.
    await fast_forward(temporal_env, latest, days=1)
    await eventually(lambda: _no_timers(latest))
    assert (await balances(seeded_db, sub))["data"][0] == 30 * GB
    first = temporal_env.client.get_workflow_handle(handle.id, run_id=first_run)
    await _replays(await first.fetch_history(), "subscription_continued_as_new")


async def test_committed_histories_replay():
    files = sorted(HISTORIES.glob("*.json"))
    assert files, "no committed subscription histories: record them with BSS_RECORD_HISTORIES=1"
    for path in files:
        workflow_id = json.loads(path.read_text()).get("workflowId") or path.stem
        history = WorkflowHistory.from_json(workflow_id, path.read_text())
        result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


async def _no_timers(handle) -> bool:
    return (await handle.query(SubscriptionWorkflow.snapshot)).vas_timers == []
