"""TMF hub delivery: commit → listener latency, a 1,000-event burst drained, orders and usage with 10 listeners vs none.

    .venv/bin/python bench/event_delivery.py                      # a private seeded `bss up` stack (default)
    .venv/bin/python bench/event_delivery.py --here --events 100  # the stack the settings name

A listener (uvicorn, in this process) is registered with `POST /tmf-api/party/v4/hub` for
`IndividualCreateEvent`. Latency: one `POST individual` at a time; the commit happens before the
API answers, so "answer → listener" (the listener's arrival minus the moment the answer was read) is
a lower bound of commit → listener and "request → listener" an upper bound. Floor, same run,
interleaved: the same signed POST sent straight to the listener (the HTTP hop alone). Burst: 1,000
`individual.created` rows inserted into `audit.domain_event` in one transaction (SQL, no API), timed
from their commit to the last arrival, and checked complete and in order. Orders: `--orders` sequential
orders with no hub, then with 10 more hubs on the ordering API (10 listener paths), alternating blocks
of 5 so drift hits both. Usage: `--usage` sequential 1 MB data events on one line, with no hub and with 10
hubs on TMF635, alternating blocks of 25. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.orders import make_customer, one_order
from core.settings import get_settings
from domain.events import signature
from tests.support.http import serve

PARTY = "/tmf-api/party/v4"
ORDERING = "/tmf-api/productOrderingManagement/v4"
USAGE_API = "/tmf-api/usageManagement/v4"
USAGE_PATH = f"{USAGE_API}/usage"
PRODUCTS = "/tmf-api/productInventory/v4/product"


class Arrivals:
    """What the listener got: arrival time per resource id, in arrival order."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.order: list[str] = []
        self.waiters: dict[str, asyncio.Future] = {}
        self.count = 0

    async def handle(self, request: Request) -> Response:
        now = time.perf_counter()
        body = json.loads(await request.body())
        self.count += 1
        resource = next(iter(body["event"].values())) if "event" in body else {"id": body.get("probe", "")}
        ident = resource["id"]
        self.at.setdefault(ident, now)
        self.order.append(ident)
        waiter = self.waiters.pop(ident, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(now)
        return Response(status_code=204)

    def expect(self, ident: str) -> asyncio.Future:
        if ident in self.at:
            done = asyncio.get_running_loop().create_future()
            done.set_result(self.at[ident])
            return done
        return self.waiters.setdefault(ident, asyncio.get_running_loop().create_future())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"{name:<44} n={len(ms):<5} p50 {statistics.median(ms):8.2f} ms  p90 {pct(ms, 90):8.2f}  "
            f"p99 {pct(ms, 99):8.2f}  max {max(ms):8.2f}")


async def latency(client: httpx.AsyncClient, box: Arrivals, url: str, events: int) -> None:
    probe = httpx.AsyncClient(timeout=10)
    lower, upper, floor = [], [], []
    for i in range(events + 5):
        started = time.perf_counter()
        created = await client.post(f"{PARTY}/individual", json={"givenName": "Bench", "familyName": f"E{i}"})
        answered = time.perf_counter()
        arrived = await asyncio.wait_for(box.expect(created.json()["id"]), 30)
        raw = json.dumps({"probe": f"probe-{i}", "eventType": "IndividualCreateEvent", "pad": "x" * 300}).encode()
        sent = time.perf_counter()
        await probe.post(url, content=raw, headers={"Content-Type": "application/json",
                                                      "X-Event-Signature": signature("s" * 64, raw)})
        hop = await asyncio.wait_for(box.expect(f"probe-{i}"), 10)
        if i >= 5:  # the first few warm the paths
            lower.append(arrived - answered)
            upper.append(arrived - started)
            floor.append(hop - sent)
    await probe.aclose()
    print(line("answer → listener (≤ commit → listener)", lower))
    print(line("request → listener (≥ commit → listener)", upper))
    print(line("floor: the signed POST alone → listener", floor))


async def burst(box: Arrivals, size: int) -> None:
    conn = await asyncpg.connect(get_settings().asyncpg_dsn())
    tag = f"BURST{int(time.time())}"
    ids = [f"{tag}-{k:05d}" for k in range(size)]
    try:
        async with conn.transaction():
            await conn.execute("""
                INSERT INTO audit.domain_event (occurred_at, event_type, aggregate_type, aggregate_id, actor,
                                                channel, service_identity, payload)
                SELECT now(), 'individual.created', 'individual', id, 'bench', 'system', 'bench', '{}'
                FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n) ORDER BY n""", ids)
        committed = time.perf_counter()
    finally:
        await conn.close()
    last = await asyncio.wait_for(asyncio.gather(*(box.expect(i) for i in ids)), 300)
    arrived = [box.order.index(i) for i in ids]
    print(f"burst of {size} events in one transaction: first arrival {(min(last) - committed) * 1000:.1f} ms, "
          f"all {size} arrived {(max(last) - committed):.2f} s after the commit "
          f"({size / (max(last) - committed):.0f} events/s); in order: {arrived == sorted(arrived)}; "
          f"complete: {all(i in box.at for i in ids)}")


async def orders_ab(client: httpx.AsyncClient, url: str, count: int) -> None:
    tag = f"ev{int(time.time()) % 10**6:06d}"
    customers = [await make_customer(client, n, tag) for n in range(count + 2)]
    await one_order(client, customers.pop())  # warm-up
    without: list[float] = []
    with_hubs: list[float] = []
    hubs: list[str] = []
    block = 5
    while len(without) < count // 2 or len(with_hubs) < count // 2:
        listening = bool(hubs)
        for _ in range(block):
            if not customers:
                break
            wall, _server, state = await one_order(client, customers.pop())
            if state == "completed":
                (with_hubs if listening else without).append(wall)
        if listening:
            for hub in hubs:
                await client.delete(f"{ORDERING}/hub/{hub}")
            hubs = []
        else:
            for n in range(10):
                made = await client.post(f"{ORDERING}/hub", json={"callback": f"{url}/{n}"})
                hubs.append(made.json()["id"])
        if not customers:
            break
    for hub in hubs:
        await client.delete(f"{ORDERING}/hub/{hub}")
    print(line("order to activation, no listener", without))
    print(line("order to activation, 10 listeners", with_hubs))
    print(f"p50 with / without: {statistics.median(with_hubs) / statistics.median(without):.3f}")


async def usage_ab(client: httpx.AsyncClient, url: str, count: int) -> None:
    """Rate `count` small data events on one line, alternating blocks with no hub and with 10 on TMF635."""
    tag = f"eu{int(time.time()) % 10**6:06d}"
    customer = await make_customer(client, 0, tag)
    *_, state = await one_order(client, customer)
    assert state == "completed", state
    (product,) = (await client.get(PRODUCTS, params={"relatedParty.id": customer})).json()
    msisdn = product["realizingResource"][0]["value"]
    timings: dict[bool, list[float]] = {False: [], True: []}
    hubs: list[str] = []
    sent = 0
    while sent < count:
        for _ in range(25):
            body = {"usageType": "data", "usageCharacteristic": [
                {"name": "msisdn", "value": msisdn}, {"name": "quantity", "value": 1}, {"name": "unit", "value": "MB"},
                {"name": "eventId", "value": f"bench-{tag}-{sent}"}]}
            started = time.perf_counter()
            (await client.post(USAGE_PATH, json=body)).raise_for_status()
            timings[bool(hubs)].append(time.perf_counter() - started)
            sent += 1
        if hubs:
            for hub in hubs:
                await client.delete(f"{USAGE_API}/hub/{hub}")
            hubs = []
        else:
            hubs = [(await client.post(f"{USAGE_API}/hub", json={"callback": f"{url}/{n}"})).json()["id"]
                    for n in range(10)]
    for hub in hubs:
        await client.delete(f"{USAGE_API}/hub/{hub}")
    print(line("usage POST, no listener", timings[False]))
    print(line("usage POST, 10 listeners", timings[True]))
    print(f"usage p50 with / without: {statistics.median(timings[True]) / statistics.median(timings[False]):.3f}")


async def measure(events: int, burst_size: int, orders: int, usage: int = 0) -> None:
    settings = get_settings()
    box = Arrivals()
    app = Starlette(routes=[Route("/events", box.handle, methods=["POST"]),
                            Route("/events/{n}", box.handle, methods=["POST"])])
    async with serve(app) as base, httpx.AsyncClient(
            base_url=settings.api_base_url, timeout=60, headers={"X-BSS-API-Token": settings.api_token_cli}) as client:
        url = f"{base}/events"
        hub = await client.post(f"{PARTY}/hub", json={"callback": url, "query": "eventType=IndividualCreateEvent"})
        hub.raise_for_status()
        try:
            if events:
                await latency(client, box, url, events)
            if burst_size:
                await burst(box, burst_size)
        finally:
            await client.delete(f"{PARTY}/hub/{hub.json()['id']}")
        if orders:
            await orders_ab(client, url, orders)
        if usage:
            await usage_ab(client, url, usage)
    print(f"load average {'/'.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    """Measure hub delivery on a private stack (default) or the settings' one (--here)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100, help="events timed one at a time")
    parser.add_argument("--burst", type=int, default=1000, help="events committed in one transaction")
    parser.add_argument("--orders", type=int, default=40, help="orders for the listeners A/B (0: skip)")
    parser.add_argument("--usage", type=int, default=400, help="usage events for the listeners A/B (0: skip)")
    parser.add_argument("--here", action="store_true", help="measure against the settings' stack, start none")
    args = parser.parse_args()
    if args.here:
        asyncio.run(measure(args.events, args.burst, args.orders, args.usage))
        return
    from tests.support.stack import running_stack

    with tempfile.TemporaryDirectory(prefix="bss-event-bench-") as base, running_stack(Path(base)) as stack:
        seeded = stack.bss("seed")
        assert seeded.returncode == 0, seeded.stderr
        subprocess.run([sys.executable, __file__, "--here", "--events", str(args.events), "--burst",
                        str(args.burst), "--orders", str(args.orders), "--usage", str(args.usage)],
                       env=stack.env, check=True)


if __name__ == "__main__":
    main()
