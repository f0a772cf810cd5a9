"""CSR console: time to first byte of the customer 360 (`GET /customer/{id}`) with 10 concurrent operators.

    .venv/bin/python bench/portal_csr_ttfb.py --rounds 30             # a private `bss up` stack (default)
    .venv/bin/python bench/portal_csr_ttfb.py --here --rounds 30      # the stack the settings name

Each of `--sessions` customers gets an active line with some usage (bench/portal_ttfb.py's set-up, untimed);
each of as many operators (supervisors, made with the CLI's token) gets a console session through the
sessions API, as the login page does. In each round every operator asks for one customer's 360 at once, and
the time from sending the request to the response's headers is its TTFB. Beside it, in the same rounds: the
console's `GET /health` and the slowest API reads the page makes (summary, timeline, daily usage), sent
straight to the API with the console's token. The page makes its reads concurrently (portals/csr/console.py),
so its floor is the session read plus the slowest read plus the usage chart, not their sum. Prints numbers;
asserts nothing.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import portal_ttfb as dashboard  # the self-serve bench's set-up and timing, shared

COOKIE = "portal_csr_session"
PASSWORD = "bench horse battery staple"


async def operator_token(api, console_api, n: int, tag: str) -> str:
    """A console session of a new supervisor (made with the CLI's token, logged in through the sessions API)."""
    username = f"bench{tag}{n}"[:32]
    (await api.post("/portal-api/v1/operator", json={
        "username": username, "password": PASSWORD, "name": f"Bench Operator {n}",
        "email": f"{username}@staff.example.com", "role": "supervisor"})).raise_for_status()
    done = await console_api.post("/portal-api/v1/operator-login", json={
        "username": username, "password": PASSWORD, "clientAddress": f"10.78.0.{n + 1}"})
    done.raise_for_status()
    return done.json()["token"]


async def measure(sessions: int, rounds: int) -> None:
    import httpx

    from core.settings import get_settings

    settings = get_settings()
    console, api_url = f"http://{settings.host}:{settings.csr_port}", settings.api_base_url
    tag = format(int(time.time() * 1000) % 10**10, "x")
    async with httpx.AsyncClient(base_url=api_url, timeout=60,
                                 headers={"X-BSS-API-Token": settings.api_token_cli}) as api, \
            httpx.AsyncClient(base_url=api_url, timeout=60,
                              headers={"X-BSS-API-Token": settings.api_token_csr}) as console_api:
        people = [await dashboard.customer_with_line(api, n, tag) for n in range(sessions)]
        tokens = [await operator_token(api, console_api, n, tag) for n in range(sessions)]
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    browsers = [httpx.AsyncClient(base_url=console, timeout=30, cookies={COOKIE: token}, limits=limits)
                for token in tokens]
    raw = httpx.AsyncClient(base_url=api_url, timeout=30, headers={"X-BSS-API-Token": settings.api_token_csr})
    cases: dict[str, Callable[[int], Awaitable[float]]] = {
        "**customer 360 `GET /customer/{id}`** (console)": lambda i: dashboard.ttfb(browsers[i],
                                                                                   f"/customer/{people[i][0]}"),
        "floor: console `GET /health`": lambda i: dashboard.ttfb(browsers[i], "/health"),
        "API: session read": lambda i: dashboard.ttfb(raw, f"/portal-api/v1/session/{tokens[i]}"),
        "API: 360 summary `GET customer/{id}/summary`": lambda i: dashboard.ttfb(
            raw, f"/crm-api/v1/customer/{people[i][0]}/summary"),
        "API: timeline `GET customer/{id}/timeline`": lambda i: dashboard.ttfb(
            raw, f"/crm-api/v1/customer/{people[i][0]}/timeline?limit=50"),
        "API: usage per day `GET subscription/{id}/usage/daily`": lambda i: dashboard.ttfb(
            raw, f"/bss-api/v1/subscription/{people[i][2]}/usage/daily"),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    print(f"console {console}, API {api_url}: {sessions} concurrent operators x {rounds} rounds, load average "
          f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())}")
    try:
        for case in cases.values():  # warm every path and connection once, untimed
            await asyncio.gather(*(case(i) for i in range(sessions)))
        for _ in range(rounds):
            for name, case in cases.items():
                times[name] += await asyncio.gather(*(case(i) for i in range(sessions)))
    finally:
        for client in (*browsers, raw):
            await client.aclose()
    print("\n| TTFB, ms | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|")
    for name, values in times.items():
        print(dashboard.row(name, values))
    print(f"\n360 p99 {dashboard.pct(times[next(iter(times))], 99) * 1000:.2f} ms (target <= 30 ms)   load average "
          f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    """Measure the CSR console's customer 360."""
    dashboard.run(measure, __doc__, __file__, "operator")


if __name__ == "__main__":
    main()
