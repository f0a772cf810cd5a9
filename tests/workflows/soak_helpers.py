"""A soak of many lines at once: daily data usage and random top-ups, each line on its own virtual clock.

Shared by `tests/workflows/test_subscription_soak_many.py` (a few lines) and `bench/soak.py`
(30 lines × 14 days). Every line runs PLAN_S (5 GB), so some run dry, are blocked, see their
usage rejected and are unblocked by a top-up. The client keeps its own ledger of what the API
said it charged and granted; `drift` compares it, and the rows that rating and VAS wrote, with
the balances in the database.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.workflows.subscription_helpers import GB, fast_forward, line, open_line, start_line

OFFERING = "PLAN_S"
TOP_UPS = {"VAS_DATA_1GB": 1 * GB, "VAS_DATA_5GB": 5 * GB}
USAGE = "/tmf-api/usageManagement/v4/usage"
OPS = "/bss-api/v1/subscription"


@dataclass
class Ledger:
    """What the API told this client about one line's data."""

    subscription_id: str
    charged: int = 0           # MB charged by rated events
    granted: int = 0           # MB added by top-ups
    rated: int = 0
    rejected: int = 0
    top_ups: list[str] = field(default_factory=list)


async def soak_line(env, api: httpx.AsyncClient, db: AsyncEngine, queue: str, subscription_id: str, days: int,
                    seed: int) -> Ledger:
    """Drive one line through `days` days: a day's data, maybe a top-up, then one day of virtual time."""
    rng = random.Random(seed)
    ledger = Ledger(subscription_id)
    msisdn = (await line(db, subscription_id))["msisdn"]
    handle = await start_line(env, queue, subscription_id)
    for day in range(days):
        mb = rng.randint(200, 900)  # ~7.5 GB a fortnight on average: a 5 GB plan runs dry unless topped up
        response = await api.post(USAGE, json={"usageType": "data", "usageCharacteristic": [
            {"name": "msisdn", "value": msisdn}, {"name": "quantity", "value": mb}, {"name": "unit", "value": "MB"},
            {"name": "eventId", "value": f"soak-{subscription_id}-{day}"}]})
        if response.status_code == 201:
            ledger.rated += 1
            ledger.charged += response.json()["ratedProductUsage"][0]["chargedQuantity"]["amount"]
        elif response.status_code == 422:
            ledger.rejected += 1
        else:
            raise AssertionError(f"usage on {subscription_id}: {response.status_code} {response.text}")
        if rng.random() < 0.2:
            offering = rng.choice(sorted(TOP_UPS))
            bought = await api.post(f"{OPS}/{subscription_id}/vas", json={"offeringId": offering,
                                                                         "requestId": f"soak-{day}"})
            if bought.status_code != 201:
                raise AssertionError(f"top-up of {subscription_id}: {bought.status_code} {bought.text}")
            ledger.granted += TOP_UPS[offering]
            ledger.top_ups.append(offering)
        await fast_forward(env, handle, days=1)
    return ledger


async def soak(env, api: httpx.AsyncClient, db: AsyncEngine, queue: str, lines: int, days: int,
               seed: int = 1) -> list[Ledger]:
    """Open `lines` PLAN_S lines, then drive them all at once for `days` days; return the client ledgers."""
    subs = [await open_line(api, OFFERING) for _ in range(lines)]
    return await drive(env, api, db, queue, subs, days, seed)


async def drive(env, api: httpx.AsyncClient, db: AsyncEngine, queue: str, subs: list[str], days: int,
                seed: int = 1) -> list[Ledger]:
    """Drive already-open lines concurrently, each on its own virtual clock."""
    return list(await asyncio.gather(*(soak_line(env, api, db, queue, s, days, seed * 1000 + i)
                                       for i, s in enumerate(subs))))


DRIFT = text("""
SELECT s.id, s.state, s.blocked_reason, b.total, b.consumed, a.quantity AS allowance,
       (SELECT coalesce(sum((g.allowances ->> 'data')::bigint), 0) FROM subscription.vas_grant g
         WHERE g.subscription_id = s.id AND g.period_number = s.period_number) AS granted,
       (SELECT coalesce(sum(u.charged_quantity), 0) FROM mediation.usage_record u
         WHERE u.subscription_id = s.id AND u.status = 'rated' AND u.rated_allowance = 'data') AS used,
       (SELECT count(*) FROM mediation.usage_record u WHERE u.subscription_id = s.id AND u.status = 'rejected')
         AS rejected
  FROM subscription.subscription s
  JOIN subscription.bundle_balance b ON b.subscription_id = s.id AND b.allowance_type = 'data'
  JOIN catalog.bundle_allowance a ON a.offering_id = s.offering_id AND a.allowance_type = 'data'
 WHERE s.id = ANY(:subs) ORDER BY s.id""")


@dataclass(frozen=True)
class Drift:
    """One line's data balance against what rating and top-ups wrote and what the client was told."""

    subscription_id: str
    state: str
    remaining: int       # total − consumed in the database
    expected: int        # plan allowance + granted top-ups − rated usage (database rows)
    client_expected: int  # the same from the client's ledger
    rejected: int
    client_rejected: int

    @property
    def drift(self) -> int:
        """Database balance minus what the usage and grant rows say it must be (0 when exact)."""
        return self.remaining - self.expected

    @property
    def client_drift(self) -> int:
        """Database balance minus what the API's answers say it must be (0 when exact)."""
        return self.remaining - self.client_expected

    @property
    def consistent_state(self) -> bool:
        """A line is blocked exactly when its data ran out (and the last event saw it)."""
        return (self.state == "blocked") == (self.remaining == 0)


async def drift(db: AsyncEngine, ledgers: list[Ledger]) -> list[Drift]:
    """Every soaked line's balance == allowance − accepted usage + top-ups, from the database and from the client."""
    by_id = {ledger.subscription_id: ledger for ledger in ledgers}
    async with db.connect() as conn:
        rows = (await conn.execute(DRIFT, {"subs": list(by_id)})).mappings().all()
    out = []
    for r in rows:
        ledger = by_id[r["id"]]
        out.append(Drift(subscription_id=r["id"], state=r["state"], remaining=r["total"] - r["consumed"],
                         expected=r["allowance"] + r["granted"] - r["used"],
                         client_expected=r["allowance"] + ledger.granted - ledger.charged,
                         rejected=r["rejected"], client_rejected=ledger.rejected))
    return out
