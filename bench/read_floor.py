"""The floor under GET customer/{id}: the same handler in a bare FastAPI app, measured like the real one.

The app below has one route that runs our customer read (`apis.tmf629_customer._current`: one
asyncpg round trip from the hot-read pool, the TMF rendering, orjson) and nothing else: no token
perimeter, no telemetry, no error mapping, no other routes. Served the way `apis.main` serves the
API (uvicorn with uvloop and httptools, `--workers` processes forked from the built app) against
the `bss up` stack's database and measured with wrk at 20 connections, it shows what this machine
gives a DB-backed read before our stack adds anything.

Usage: .venv/bin/python bench/read_floor.py [--workers 2] [--seconds 15] [--connections 20]
(BSS_HOME and the port settings select the stack, as for bench/api_latency.sh; needs Debian's wrk)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apis.tmf import tmf_response
from apis.tmf629_customer import CUSTOMER_PATH, _current

app = FastAPI()


@app.get(CUSTOMER_PATH + "/{customer_id}")
async def get_customer(customer_id: str, request: Request) -> JSONResponse:
    """Our customer read, with nothing around it."""
    return tmf_response(await _current(customer_id, request))


def serve(port: int, workers: int) -> None:
    """Serve `app` like apis.main serves the API: one bound socket, `workers` forked processes."""
    import uvicorn

    from apis.main import _fork_workers

    config = uvicorn.Config(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools", ws="none",
                            log_level="warning", access_log=False, lifespan="off")
    sockets = [config.bind_socket()]
    _fork_workers(workers - 1)
    uvicorn.Server(config).run(sockets=sockets)


def main() -> None:
    """Serve the bare app, warm it up for 3 s, then measure it with wrk and print wrk's report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--port", type=int, default=18777)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the server process itself
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.workers)
        return
    from core.settings import get_settings

    settings = get_settings()
    token = settings.api_token_cli
    # A customer to read, created through the real API like bench/api_latency.sh does.
    with httpx.Client(base_url=settings.api_base_url, headers={"X-BSS-API-Token": token}) as api:
        party = api.post("/tmf-api/party/v4/individual", json={"givenName": "Floor", "familyName": "Bench"}).json()
        customer = api.post("/tmf-api/customerManagement/v4/customer", json={
            "name": "Floor Read", "engagedParty": {"id": party["id"], "@referredType": "Individual"},
            "contactMedium": [{"mediumType": "email", "characteristic": {
                "emailAddress": f"floor.{time.time_ns()}@example.com"}}]}).json()
    url = f"http://127.0.0.1:{args.port}{CUSTOMER_PATH}/{customer['id']}"
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--port", str(args.port), "--workers", str(args.workers)],
        cwd=ROOT, env=os.environ.copy())
    try:
        for _ in range(100):
            try:
                if httpx.get(url).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        wrk = ["wrk", "-t2", f"-c{args.connections}"]
        subprocess.run([*wrk, "-d3s", url], check=True, capture_output=True)
        report = subprocess.run([*wrk, f"-d{args.seconds}s", "--latency", url], check=True,
                                capture_output=True, text=True).stdout
        print(f"== bare FastAPI + our customer read, {args.workers} worker(s), "
              f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
        print("\n".join(line for line in report.splitlines()
                        if any(k in line for k in ("Latency", "50%", "99%", "Requests/sec", "Non-2xx"))))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
