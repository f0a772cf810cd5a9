"""The rounds of `bss chaos`: the mixed load with seeded faults, the clock, then the gates.

A round: the load runs for `duration_s` while each fault of the round strikes at a seeded moment
(one after another: inject, then `up` until all is healthy again); then, on a time-skipping stack,
the clock moves a period on so every line renews; then the run's orders and charges are given
`settle_s` to become final and the gates are read. After the last round every workflow the run
touched is replayed. The same seed gives the same faults at the same moments and the same load.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from cli.chaos import gates
from cli.chaos.faults import Fault, Injected, inject, recover
from cli.chaos.load import Load, Tally, advance_clock
from core.settings import Settings

Say = Callable[[str], None]
GATES = ("stranded orders", "double charges", "balance drift", "replay failures")


@dataclass(frozen=True)
class Options:
    """How much chaos: rounds, seed, the round's length, its load and its faults."""

    rounds: int = 5
    seed: int = 1
    duration_s: float = 20.0
    orders: int = 4
    streams: int = 3
    faults: tuple[Fault, ...] = tuple(Fault)
    advance: str | None = "30d"
    settle_s: float = 120.0
    recover_timeout_s: float = 150.0


@dataclass
class RoundReport:
    """One round: the load's tally, the faults as they happened, the renewals it caused."""

    number: int
    tally: Tally
    injected: list[Injected] = field(default_factory=list)
    renewals: int = 0
    elapsed_s: float = 0.0


@dataclass
class RunReport:
    """The whole run: rounds, gates (offending items per gate), replayed histories, wall time."""

    options: Options
    time_skipping: bool
    rounds: list[RoundReport] = field(default_factory=list)
    gates: dict[str, list[str]] = field(default_factory=lambda: {g: [] for g in GATES})
    replayed: int = 0
    elapsed_s: float = 0.0

    @property
    def green(self) -> bool:
        """True when every gate is 0."""
        return not any(self.gates.values())


def schedule(rng: random.Random, options: Options) -> list[tuple[float, Fault]]:
    """When each fault of a round strikes (seconds into the round), earliest first."""
    faults = list(options.faults)
    rng.shuffle(faults)
    return sorted((rng.uniform(0.1, 0.9) * options.duration_s, fault) for fault in faults)


class Chaos:
    """One run against the stack described by `settings`."""

    def __init__(self, settings: Settings, options: Options, say: Say) -> None:
        self.settings, self.options, self.say = settings, options, say
        self.time_skipping = (settings.run_dir / "time-skipping").exists()
        self.load = Load(settings.api_base_url, settings.api_token_cli, format(int(time.time() * 1000), "x")[-7:])
        self.order_ids: list[str] = []
        self.subscription_ids: list[str] = []
        self.report = RunReport(options, self.time_skipping)

    async def _scope(self, conn: asyncpg.Connection) -> None:
        """The run's orders and lines, from its customers (an order whose answer was lost counts too)."""
        customers = self.load.customers
        self.order_ids = [r["id"] for r in await conn.fetch(
            "SELECT id FROM ordering.product_order WHERE customer_id = ANY($1::text[]) ORDER BY id", customers)]
        self.subscription_ids = [r["id"] for r in await conn.fetch(
            "SELECT id FROM subscription.subscription WHERE customer_id = ANY($1::text[]) ORDER BY id", customers)]

    async def _faults(self, number: int, rng: random.Random, began: float, report: RoundReport) -> None:
        for at, fault in schedule(rng, self.options):
            await asyncio.sleep(max(0.0, began + at - time.monotonic()))
            self.say(f"round {number}: {fault}")
            struck = time.monotonic()
            name, pid = await asyncio.to_thread(inject, self.settings, fault, rng)
            self.say(f"round {number}: {fault} ({name} pid {pid}) — bringing the stack back")
            await asyncio.to_thread(recover, self.settings, self.options.recover_timeout_s)
            # From the blow to a healthy stack again (a graceful stop takes its time too).
            report.injected.append(Injected(fault, name, pid, struck - began, time.monotonic() - struck))

    async def round(self, number: int) -> RoundReport:
        """Load and faults together, then the clock, then wait for the run's orders and charges to settle."""
        rng = random.Random(f"{self.options.seed}:{number}")
        report = RoundReport(number, Tally())
        began = time.monotonic()
        stop = asyncio.Event()
        self.say(f"round {number}: load and faults")
        load = asyncio.create_task(self.load.round(random.Random(rng.random()), self.options.orders,
                                                   self.options.duration_s, self.options.streams, stop,
                                                   report.tally))
        try:
            await self._faults(number, random.Random(rng.random()), began, report)
            await asyncio.sleep(max(0.0, began + self.options.duration_s - time.monotonic()))
        except BaseException:
            load.cancel()  # the stack could not be brought back: the load would only wait it out
            await asyncio.gather(load, return_exceptions=True)
            raise
        stop.set()
        await load
        if self.time_skipping and self.options.advance:
            self.say(f"round {number}: clock +{self.options.advance} (renewals)")
            before = await self._renewals()
            http, api = self.load.client(report.tally)
            async with http:
                await advance_clock(api, self.options.advance)
            await self._settle(number)
            report.renewals = await self._renewals() - before
        else:
            await self._settle(number)
        report.elapsed_s = time.monotonic() - began
        return report

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.settings.asyncpg_dsn())

    async def _renewals(self) -> int:
        conn = await self._connect()
        try:
            await self._scope(conn)
            return await conn.fetchval("SELECT count(*) FROM subscription.renewal WHERE subscription_id = ANY($1)",
                                       self.subscription_ids)
        finally:
            await conn.close()

    async def _settle(self, number: int) -> None:
        """Wait (up to the bound) until the run's orders are final and none of its charges is in flight."""
        self.say(f"round {number}: waiting for orders and charges to settle")
        deadline = time.monotonic() + self.options.settle_s
        conn = await self._connect()
        try:
            while time.monotonic() < deadline:
                await self._scope(conn)
                stranded = await gates.stranded_orders(conn, self.order_ids)
                if not stranded and not await gates.open_charges(conn, [*self.order_ids, *self.subscription_ids]):
                    return
                await asyncio.sleep(0.5)
        finally:
            await conn.close()

    async def check(self) -> dict[str, list[str]]:
        """The database gates now (stranded orders, double charges, balance drift)."""
        conn = await self._connect()
        try:
            await self._scope(conn)
            return {
                "stranded orders": await gates.stranded_orders(conn, self.order_ids),
                "double charges": await gates.double_charges(conn, self.settings.home / "payment-gateway.sqlite",
                                                             self.order_ids, self.subscription_ids),
                "balance drift": await gates.balance_drift(conn, self.subscription_ids),
            }
        finally:
            await conn.close()

    async def replay(self, since: dt.datetime) -> None:
        """Replay every workflow the run touched."""
        from cli.chaos.replay import replay, touched
        from core.temporal import connect

        self.say("replaying every workflow the run touched")
        client = await connect(self.settings)
        ids = await touched(client, since, self.order_ids, self.subscription_ids)
        self.report.replayed, self.report.gates["replay failures"] = await replay(client, ids)

    async def run(self, on_round: Callable[[RoundReport], None]) -> RunReport:
        """Every round, the gates after each (kept when they fail), the replay at the end."""
        began, since = time.monotonic(), dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
        for number in range(1, self.options.rounds + 1):
            round_report = await self.round(number)
            self.report.rounds.append(round_report)
            for gate, found in (await self.check()).items():
                self.report.gates[gate] = sorted(set(self.report.gates[gate]) | set(found))
            on_round(round_report)
        await self.replay(since)
        self.report.elapsed_s = time.monotonic() - began
        return self.report
