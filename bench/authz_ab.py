"""What authorization costs the hot reads: the same build served with its checks on and off, side by side.

Two servers of `apis.app.create_app`, each in `--workers` processes like `apis.main`, on the `bss up`
stack's database (BSS_HOME selects it, as for bench/api_latency.sh):

* **on**: the API as shipped (perimeter with scopes, binding and actor rules; every route guarded);
* **off**: the same app with `GuardedRoute`'s check taken out and the perimeter of before this
  change (token digest looked up in a dict, actor copied, nothing else).

Each endpoint is measured with wrk (20 connections) on one server, then the other, alternating the
order each round, so a noisy neighbour hits both alike. Then, on the shipped build: a self-serve call
bound to the customer (`X-BSS-On-Behalf-Of`) reading the customer itself (its own id needs no look-up),
and the customer's individual read by the cli and by the bound call, which pays one ownership query.

Usage: .venv/bin/python bench/authz_ab.py [--seconds 10] [--rounds 3] [--workers 2]   (needs Debian's wrk)
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OFFERINGS = "/tmf-api/productCatalogManagement/v4/productOffering"
CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
INDIVIDUALS = "/tmf-api/party/v4/individual"
PORTS = {"on": 18791, "off": 18792}


class LegacyPerimeter:
    """The perimeter before authorization: a token names its surface, the actor header is copied."""

    def __init__(self, app, registry) -> None:
        self.app = app
        self.by_digest = {digest: credential.surface.value for digest, credential in registry.entries}

    async def __call__(self, scope, receive, send) -> None:
        from apis.errors import tmf_error
        from core import context
        from core.context import RequestContext
        from core.tokens import _digest

        if scope["type"] != "http" or scope["path"].startswith(("/health", "/docs", "/openapi.json")):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        token = headers.get(b"x-bss-api-token", b"").decode("latin-1")
        surface = self.by_digest.get(_digest(token)) if token else None
        if surface is None:
            await tmf_error(401, "auth.token_invalid", "Unauthorized", "token")(scope, receive, send)
            return
        actor = headers.get(b"x-bss-actor", b"").decode("utf-8", "replace")[:120] or surface
        ref = context.bind(RequestContext(actor=actor, channel=surface, service_identity=surface))
        try:
            await self.app(scope, receive, send)
        finally:
            context.reset(ref)


def serve(mode: str, workers: int) -> None:
    """Serve the API with authorization `mode` ('on' or 'off') like apis.main does."""
    import uvicorn

    from apis.main import _fork_workers

    if mode == "off":
        from fastapi.routing import APIRoute

        import apis.app
        from apis import routing

        routing.GuardedRoute.get_route_handler = APIRoute.get_route_handler  # no scope or binding check
        apis.app.TokenPerimeter = LegacyPerimeter
    from apis.app import create_app

    config = uvicorn.Config(create_app(), host="127.0.0.1", port=PORTS[mode], loop="uvloop", http="httptools",
                            ws="none", log_level="warning", access_log=False, lifespan="on")
    sockets = [config.bind_socket()]
    _fork_workers(workers - 1)
    uvicorn.Server(config).run(sockets=sockets)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a server process and its forked workers."""
    import psutil

    process = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [process, *process.children(recursive=True)])


def wrk(url: str, seconds: int, pid: int, *args: str) -> tuple[float, float, float]:
    """(requests/s, p99 ms, server CPU-ms per request) of `url` at 20 connections, after a 3 s warm-up."""
    base = ["wrk", "-t2", "-c20", "-s", str(ROOT / "bench/wrk/get.lua")]
    subprocess.run([*base, "-d3s", url, "--", *args], check=True, capture_output=True)
    before = cpu_seconds(pid)
    out = subprocess.run([*base, f"-d{seconds}s", "--latency", url, "--", *args], check=True,
                         capture_output=True, text=True).stdout
    spent = cpu_seconds(pid) - before
    if "Non-2xx" in out:
        raise SystemExit(f"non-2xx answers from {url}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return rate, float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 1000 * spent / requests


def main() -> None:
    """Start both servers, measure each endpoint alternately, print medians and the on/off ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--serve", choices=list(PORTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.workers)
        return
    from core.settings import get_settings

    settings = get_settings()
    cli, self_serve = settings.api_token_cli, settings.api_token_self_serve
    with httpx.Client(base_url=settings.api_base_url, headers={"X-BSS-API-Token": cli}) as api:
        party = api.post(INDIVIDUALS, json={"givenName": "Authz", "familyName": "Bench"}).json()["id"]
        customer = api.post(CUSTOMERS, json={
            "name": "Authz Read", "engagedParty": {"id": party, "@referredType": "Individual"},
            "contactMedium": [{"mediumType": "email", "characteristic": {
                "emailAddress": f"authz.{time.time_ns()}@example.com"}}]}).json()["id"]
    servers = [subprocess.Popen([sys.executable, __file__, "--serve", mode, "--workers", str(args.workers)],
                                cwd=ROOT, env=os.environ.copy()) for mode in PORTS]
    try:
        for port in PORTS.values():
            for _ in range(200):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
        cases = {"GET productOffering list": (OFFERINGS, cli), f"GET customer/{customer}": (f"{CUSTOMERS}/{customer}", cli)}
        pids = {mode: server.pid for mode, server in zip(PORTS, servers, strict=True)}
        results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        for n in range(args.rounds):
            for name, (path, token) in cases.items():
                for mode in (("on", "off") if n % 2 == 0 else ("off", "on")):
                    results.setdefault((name, mode), []).append(
                        wrk(f"http://127.0.0.1:{PORTS[mode]}{path}", args.seconds, pids[mode], token))
            on = f"http://127.0.0.1:{PORTS['on']}"
            results.setdefault(("GET customer, self-serve bound to it", "on"), []).append(
                wrk(f"{on}{CUSTOMERS}/{customer}", args.seconds, pids["on"], self_serve, customer))
            # An id other than the customer's own costs one ownership query: the individual, cli vs bound.
            results.setdefault(("GET individual, cli", "on"), []).append(
                wrk(f"{on}{INDIVIDUALS}/{party}", args.seconds, pids["on"], cli))
            results.setdefault(("GET individual, self-serve bound (1 query)", "on"), []).append(
                wrk(f"{on}{INDIVIDUALS}/{party}", args.seconds, pids["on"], self_serve, customer))
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        print(f"== authorization on vs off, {args.rounds} alternating rounds of {args.seconds} s, 20 connections, "
              f"{args.workers} worker(s) each, load average {load}")
        print(f"{'endpoint':44} {'mode':4} {'req/s':>7} {'p99 ms':>7} {'CPU-ms/req':>10}  (medians)  runs req/s")
        for (name, mode), runs in results.items():
            rate, p99, cpu = (statistics.median(run[i] for run in runs) for i in range(3))
            print(f"{name:44} {mode:4} {rate:7.0f} {p99:7.1f} {cpu:10.3f}  {' '.join(f'{r[0]:.0f}' for r in runs)}")
        for name in cases:
            on, off = ([statistics.median(run[i] for run in results[(name, mode)]) for i in (0, 2)]
                       for mode in ("on", "off"))
            print(f"{name}: on/off throughput {on[0] / off[0]:.3f} ({100 * (on[0] / off[0] - 1):+.1f} %), "
                  f"CPU per request {on[1] / off[1]:.3f} ({100 * (on[1] / off[1] - 1):+.1f} %)")
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
