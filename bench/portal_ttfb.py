"""Self-serve dashboard: time to first byte of `GET /account` with 10 concurrent signed-in sessions.

    .venv/bin/python bench/portal_ttfb.py --rounds 30             # a private `bss up` stack (default)
    .venv/bin/python bench/portal_ttfb.py --here --rounds 30      # the stack the settings name

Each of `--sessions` customers gets a line through the API (CLI token; KYC, card and order made
untimed) and a few usage events, then a portal session (code from the stack's dev mailbox, through
the sessions API as the login page does). In each round every session asks for its dashboard at
once (one request each, concurrently), and the time from sending the request to the response's
headers is its TTFB. Beside it, in the same rounds and at the same concurrency, the floors: the
portal's `GET /health` (uvicorn + FastAPI, no API call), and each API call the dashboard makes
(the session read, then the customer's lines with their balances and usage per day) sent straight
to the API with the portal's token, bound to the same customer. A dashboard makes those calls one
after the other, so the sum of their medians is the page's API floor. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COOKIE = "portal_self_serve_session"
PRODUCT = "/tmf-api/productInventory/v4/product"
USAGE = "/tmf-api/usageManagement/v4/usage"


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def row(name: str, values: list[float]) -> str:
    """One line of the table, in milliseconds."""
    ms = [v * 1000 for v in values]
    return (f"| {name} | {len(ms)} | {statistics.median(ms):.2f} | {pct(ms, 90):.2f} | {pct(ms, 99):.2f} "
            f"| {max(ms):.2f} |")


async def customer_with_line(api, n: int, tag: str) -> tuple[str, str, str]:
    """(customer id, email, line id): a customer with KYC, a card, an active PLAN_M line and some usage."""
    from tests.workflows.order_helpers import wait_order

    email = f"ttfb.{tag}.{n}@example.com"
    ind = (await api.post("/tmf-api/party/v4/individual", json={"givenName": "Bench", "familyName": f"T{n}"})).json()
    cust = await api.post("/tmf-api/customerManagement/v4/customer", json={
        "name": f"Bench T{n}", "engagedParty": {"id": ind["id"], "@referredType": "Individual"},
        "contactMedium": [{"mediumType": "email", "preferred": True, "characteristic": {"emailAddress": email}}]})
    cust.raise_for_status()
    cid = cust.json()["id"]
    (await api.post(f"/crm-api/v1/customer/{cid}/kyc", json={
        "provider": "prebaked", "documentType": "nric",
        "documentNumber": f"S{(int(tag, 16) * 31 + n * 7919) % 10**7:07d}T"})).raise_for_status()
    (await api.post("/tmf-api/paymentMethod/v4/paymentMethod", json={
        "@type": "bankCard", "relatedParty": {"id": cid, "@referredType": "Customer"},
        "cardNumber": "4242424242424242", "expirationDate": "12/35"})).raise_for_status()
    order = (await api.post("/tmf-api/productOrderingManagement/v4/productOrder", json={
        "relatedParty": [{"id": cid, "role": "customer", "@referredType": "Customer"}],
        "productOrderItem": [{"id": "1", "action": "add", "quantity": 1,
                              "productOffering": {"id": "PLAN_M", "@referredType": "ProductOffering"}}]})).json()
    done = await wait_order(api, order["id"])
    line = done["productOrderItem"][0]["product"]["id"]
    msisdn = next(c["value"] for c in (await api.get(f"{PRODUCT}/{line}")).json()["productCharacteristic"]
                  if c["name"] == "msisdn")
    for k, (kind, quantity) in enumerate((("data", 700), ("voice", 120), ("sms", 3), ("data", 250))):
        (await api.post(USAGE, json={"usageType": kind, "usageCharacteristic": [
            {"name": "msisdn", "value": msisdn}, {"name": "quantity", "value": quantity},
            {"name": "eventId", "value": f"ttfb-{tag}-{n}-{k}"}]})).raise_for_status()
    return cid, email, line


async def session_token(portal_api, email: str, n: int) -> str:
    """A self-serve session for `email`, logged in with the code from the dev mailbox."""
    from tests.support.mailbox import latest_code

    address = f"10.77.0.{n + 1}"  # one client address each: the per-address code limit is not what is measured
    (await portal_api.post("/portal-api/v1/login/code", json={
        "email": email, "purpose": "login", "clientAddress": address})).raise_for_status()
    code = await asyncio.to_thread(latest_code, email)
    done = await portal_api.post("/portal-api/v1/login", json={"email": email, "code": code, "clientAddress": address})
    done.raise_for_status()
    return done.json()["token"]


async def ttfb(client, path: str) -> float:
    """Seconds from sending a GET to its response's headers (the body is then read and dropped)."""
    started = time.perf_counter()
    async with client.stream("GET", path) as response:
        first = time.perf_counter() - started
        await response.aread()
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:200]}")
    return first


async def measure(sessions: int, rounds: int) -> None:
    import httpx

    from core.settings import get_settings

    settings = get_settings()
    portal, api_url = settings.self_serve_base_url, settings.api_base_url
    tag = format(int(time.time() * 1000) % 10**10, "x")
    async with httpx.AsyncClient(base_url=api_url, timeout=60,
                                 headers={"X-BSS-API-Token": settings.api_token_cli}) as api, \
            httpx.AsyncClient(base_url=api_url, timeout=60,
                              headers={"X-BSS-API-Token": settings.api_token_self_serve}) as portal_api:
        people = [await customer_with_line(api, n, tag) for n in range(sessions)]
        tokens = [await session_token(portal_api, email, n) for n, (_, email, _) in enumerate(people)]
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    browsers = [httpx.AsyncClient(base_url=portal, timeout=30, cookies={COOKIE: token}, limits=limits)
                for token in tokens]
    bound = [httpx.AsyncClient(base_url=api_url, timeout=30, limits=limits, headers={
        "X-BSS-API-Token": settings.api_token_self_serve, "X-BSS-On-Behalf-Of": cid}) for cid, _, _ in people]
    raw = httpx.AsyncClient(base_url=api_url, timeout=30, headers={"X-BSS-API-Token": settings.api_token_self_serve})
    cases: dict[str, Callable[[int], Awaitable[float]]] = {
        "**dashboard `GET /account`** (portal)": lambda i: ttfb(browsers[i], "/account"),
        "floor: portal `GET /health`": lambda i: ttfb(browsers[i], "/health"),
        "API: session read `GET /portal-api/v1/session/{token}`": lambda i: ttfb(
            raw, f"/portal-api/v1/session/{tokens[i]}"),
        "API: lines with balances and usage `GET customer/{id}/lines`": lambda i: ttfb(
            bound[i], f"/bss-api/v1/customer/{people[i][0]}/lines"),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    print(f"portal {portal}, API {api_url}: {sessions} concurrent sessions x {rounds} rounds, load average "
          f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())}")
    try:
        for name, case in cases.items():  # warm every path and connection once, untimed
            await asyncio.gather(*(case(i) for i in range(sessions)))
        for _ in range(rounds):
            for name, case in cases.items():  # the same round, the same moment of the machine's load
                times[name] += await asyncio.gather(*(case(i) for i in range(sessions)))
    finally:
        for client in (*browsers, *bound, raw):
            await client.aclose()
    print("\n| TTFB, ms | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|")
    for name, values in times.items():
        print(row(name, values))
    api_calls = [name for name in times if name.startswith("API")]
    slowest = max(api_calls, key=lambda name: pct(times[name], 99))
    chain = sum(statistics.median(times[name]) for name in api_calls) * 1000
    print(f"\nslowest API call of the page (p99): {slowest}; the page's API calls in a row (sum of p50s): "
          f"{chain:.2f} ms\ndashboard p99 {pct(times[next(iter(times))], 99) * 1000:.2f} ms (target <= 30 ms)"
          f"   load average {'/'.join(f'{x:.2f}' for x in os.getloadavg())}")


def run(measure_: Callable[[int, int], Awaitable[None]], doc: str, script: str, who: str) -> None:
    """The command line both portal benches share: `--here` measures the settings' stack, else a private seeded one."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10, help=f"concurrent {who} sessions")
    parser.add_argument("--rounds", type=int, default=30, help="rounds of one request per session per case")
    parser.add_argument("--here", action="store_true", help="measure against the settings' stack, start none")
    args = parser.parse_args()
    if args.here:
        asyncio.run(measure_(args.sessions, args.rounds))
        return
    from tests.support.stack import running_stack

    with tempfile.TemporaryDirectory(prefix="bss-ttfb-bench-") as base, running_stack(Path(base)) as stack:
        seeded = stack.bss("seed")
        assert seeded.returncode == 0, seeded.stderr
        subprocess.run([sys.executable, script, "--here", "--sessions", str(args.sessions), "--rounds",
                        str(args.rounds)], env=stack.env, check=True)


def main() -> None:
    """Measure the self-serve dashboard."""
    run(measure, __doc__, __file__, "signed-in")


if __name__ == "__main__":
    main()
