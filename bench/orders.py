"""Order-to-activation wall time and throughput against a running stack (`bss up`).

    .venv/bin/python bench/orders.py --sequential 50 --concurrent 20
    .venv/bin/python bench/orders.py --sequential 50 --concurrent 0 --gap-ms 500   # one order at a time

Each order: POST productOrder → poll GET until `completed` (10 ms polls sequentially, 250 ms in
the concurrent burst; the server-side
`orderDate → completionDate` is reported too, it has no polling error). Customers (individual,
customer, KYC, card) are created first and are not timed. Each phase also reports the CPU seconds
per order of every stack component (from the supervisor's pid files; the API's includes serving
the polls). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cli.stack.procs import read_record  # noqa: E402
from core.settings import get_settings  # noqa: E402

ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"


async def make_customer(client: httpx.AsyncClient, n: int, tag: str) -> str:
    ind = (await client.post("/tmf-api/party/v4/individual", json={"givenName": "Bench", "familyName": f"U{n}"})).json()
    cust = await client.post("/tmf-api/customerManagement/v4/customer", json={
        "name": f"Bench {n}", "engagedParty": {"id": ind["id"], "@referredType": "Individual"},
        "contactMedium": [{"mediumType": "email", "preferred": True,
                           "characteristic": {"emailAddress": f"bench.{tag}.{n}@example.com"}}]})
    cust.raise_for_status()
    cid = cust.json()["id"]
    digits = (int(tag[-6:], 36) * 1000 + n) % 10**7
    (await client.post(f"/crm-api/v1/customer/{cid}/kyc", json={
        "provider": "prebaked", "documentType": "nric", "documentNumber": f"T{digits:07d}B"})).raise_for_status()
    (await client.post("/tmf-api/paymentMethod/v4/paymentMethod", json={
        "@type": "bankCard", "relatedParty": {"id": cid, "@referredType": "Customer"},
        "cardNumber": "4242424242424242", "expirationDate": "12/35"})).raise_for_status()
    return cid


async def one_order(client: httpx.AsyncClient, customer_id: str, poll_s: float = 0.01) -> tuple[float, float, str]:
    body = {"relatedParty": [{"id": customer_id, "role": "customer", "@referredType": "Customer"}],
            "productOrderItem": [{"id": "1", "action": "add", "quantity": 1,
                                  "productOffering": {"id": "PLAN_M", "@referredType": "ProductOffering"}}]}
    started = time.perf_counter()
    order = (await client.post(ORDERS, json=body)).json()
    while True:
        current = (await client.get(f"{ORDERS}/{order['id']}")).json()
        if current["state"] in ("completed", "failed", "cancelled"):
            break
        await asyncio.sleep(poll_s)
    wall = time.perf_counter() - started
    server = (datetime.fromisoformat(current["completionDate"]) - datetime.fromisoformat(current["orderDate"]))
    return wall, server.total_seconds(), current["state"]


COMPONENTS = ("api", "worker", "temporal", "postgres")


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by `pid` and its live descendants, plus its exited children (PostgreSQL backends)."""
    root = psutil.Process(pid)
    t = root.cpu_times()
    total = t.children_user + t.children_system
    for proc in [root, *root.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue  # a descendant that ended meanwhile (its time moved to its parent's children_*)
        total += t.user + t.system
    return total


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by each stack component, its child processes included."""
    run_dir = get_settings().run_dir
    used = {}
    for name in COMPONENTS:
        record = read_record(run_dir, name)
        if record is None:
            continue
        try:
            used[name] = tree_cpu(record.pid)
        except psutil.Error:
            continue
    return used


def cpu_line(before: dict[str, float], orders: int) -> str:
    """CPU-s per order of each component since `before`."""
    after = cpu_seconds()
    per = {n: (after[n] - before[n]) / max(orders, 1) for n in after if n in before}
    parts = "  ".join(f"{n} {v:.3f}" for n, v in per.items())
    return f"  CPU-s/order  {parts}  total {sum(per.values()):.3f}"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def main(sequential: int, concurrent: int, gap_s: float) -> None:
    settings = get_settings()
    tag = format(int(time.time()), "x")
    async with httpx.AsyncClient(base_url=settings.api_base_url, timeout=60,
                                 headers={"X-BSS-API-Token": settings.api_token_cli}) as client:
        customers = [await make_customer(client, i, tag) for i in range(sequential + concurrent)]
        cpu = cpu_seconds()
        results = []
        for customer_id in customers[:sequential]:
            results.append(await one_order(client, customer_id))
            # Back to back (gap 0), an order overlaps the previous one's tail (its line workflow's
            # start and first task); a gap measures one order on an otherwise idle stack.
            await asyncio.sleep(gap_s)
        failed = [r for r in results if r[2] != "completed"]
        walls, servers = [r[0] for r in results], [r[1] for r in results]
        print(f"sequential orders: {len(results)} ({len(failed)} not completed)")
        print(f"  wall   p50 {statistics.median(walls) * 1000:.0f} ms  p99 {pct(walls, 99) * 1000:.0f} ms"
              f"  max {max(walls) * 1000:.0f} ms")
        print(f"  server p50 {statistics.median(servers) * 1000:.0f} ms  p99 {pct(servers, 99) * 1000:.0f} ms")
        print(cpu_line(cpu, len(results)))
        if concurrent:
            cpu = cpu_seconds()
            started = time.perf_counter()
            # Polls every 250 ms here: 20 clients polling at 10 ms would load the API more than the orders do.
            burst = await asyncio.gather(*(one_order(client, c, 0.25) for c in customers[sequential:]))
            elapsed = time.perf_counter() - started
            ok = sum(1 for r in burst if r[2] == "completed")
            print(f"concurrent: {concurrent} orders, {ok} completed in {elapsed:.2f} s → {ok / elapsed:.1f} orders/s;"
                  f" wall p50 {statistics.median([r[0] for r in burst]) * 1000:.0f} ms")
            print(cpu_line(cpu, len(burst)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", type=int, default=50)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--gap-ms", type=int, default=0, help="pause between sequential orders (default: none)")
    args = parser.parse_args()
    asyncio.run(main(args.sequential, args.concurrent, args.gap_ms / 1000))
