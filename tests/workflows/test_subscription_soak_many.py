"""Several lines at once through two simulated weeks of daily usage and random top-ups: no balance drifts.

The full 30 lines × 14 days run is `bench/soak.py`; this is the same driver on fewer lines.
"""

from __future__ import annotations

from tests.workflows.soak_helpers import drift, soak
from tests.workflows.subscription_helpers import subscription_queue  # noqa: F401 - the `sub_queue` fixture


async def test_lines_with_daily_usage_and_top_ups_end_without_drift(seeded_api, seeded_db, temporal_env, sub_queue):
    ledgers = await soak(temporal_env, seeded_api, seeded_db, sub_queue, lines=4, days=14, seed=7)

    lines = await drift(seeded_db, ledgers)
    assert len(lines) == 4
    assert [(d.drift, d.client_drift) for d in lines] == [(0, 0)] * 4
    assert all(d.consistent_state for d in lines)
    assert [d.rejected for d in lines] == [d.client_rejected for d in lines]
    # The seed makes the run interesting: someone ran dry and was refused, someone topped up.
    assert sum(ledger.rejected for ledger in ledgers) > 0
    assert sum(len(ledger.top_ups) for ledger in ledgers) > 0
