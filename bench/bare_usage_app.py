"""Calibration: a bare FastAPI + asyncpg endpoint doing three statements per transaction.

It answers the same `POST /tmf-api/usageManagement/v4/usage` body that `bench/usage_wrk.lua`
sends, with none of the stack (no auth, middleware, tracing, rating, audit): one pool checkout,
then `BEGIN`; lock the line's balance row; insert the usage row (the event id is its key);
decrement the balance; `COMMIT`. Served like the real API (uvicorn, uvloop, httptools, one
process, pool of 10), so its requests/s is the ceiling this machine gives such an endpoint.

    .venv/bin/python bench/bare_usage_app.py --dsn postgresql://postgres@/bench_bare?host=… --port 18610 --lines 200

Creates its two tables (dropping earlier ones) and `--lines` balance rows keyed `B000001`…
(use them as USAGE_MSISDNS). Prints nothing but uvicorn's own start line.
"""

from __future__ import annotations

import argparse
from contextlib import asynccontextmanager

import asyncpg
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

SCHEMA = """
DROP TABLE IF EXISTS bare_usage, bare_balance;
CREATE TABLE bare_balance (msisdn text PRIMARY KEY, total bigint NOT NULL, consumed bigint NOT NULL DEFAULT 0);
CREATE TABLE bare_usage (event_id text PRIMARY KEY, msisdn text NOT NULL, usage_type text NOT NULL,
                         quantity bigint NOT NULL, received_at timestamptz NOT NULL DEFAULT now());
"""
LOCK = "SELECT total, consumed FROM bare_balance WHERE msisdn = $1 FOR NO KEY UPDATE"
INSERT = "INSERT INTO bare_usage (event_id, msisdn, usage_type, quantity) VALUES ($1, $2, $3, $4)"
DECREMENT = "UPDATE bare_balance SET consumed = consumed + $2 WHERE msisdn = $1"


def bare_msisdns(count: int) -> list[str]:
    """The balance keys the app creates (what wrk should send as `msisdn`)."""
    return [f"B{i:06d}" for i in range(1, count + 1)]


def create_app(dsn: str, lines: int) -> FastAPI:
    """The one-endpoint app over a pool of 10 asyncpg connections."""
    state: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        pool = await asyncpg.create_pool(dsn, min_size=10, max_size=10)
        async with pool.acquire() as conn:
            await conn.execute(SCHEMA)
            await conn.executemany("INSERT INTO bare_balance (msisdn, total) VALUES ($1, $2)",
                                   [(m, 10**12) for m in bare_msisdns(lines)])
        state["pool"] = pool
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/tmf-api/usageManagement/v4/usage", status_code=201)
    async def post_usage(request: Request) -> JSONResponse:
        """Record one event: lock the balance, insert the usage, decrement; one transaction."""
        body = await request.json()
        chars = {c["name"]: c["value"] for c in body["usageCharacteristic"]}
        async with state["pool"].acquire() as conn, conn.transaction():
            if await conn.fetchrow(LOCK, chars["msisdn"]) is None:
                return JSONResponse({"code": "unknown_msisdn"}, status_code=422)
            await conn.execute(INSERT, chars["eventId"], chars["msisdn"], body["usageType"], chars["quantity"])
            await conn.execute(DECREMENT, chars["msisdn"], chars["quantity"])
        return JSONResponse({"id": chars["eventId"], "status": "rated"}, status_code=201)

    return app


def main() -> None:
    """Serve the calibration app until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True, help="asyncpg DSN of an empty database")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lines", type=int, default=200)
    args = parser.parse_args()
    uvicorn.run(create_app(args.dsn, args.lines), host="127.0.0.1", port=args.port, loop="uvloop",
                http="httptools", ws="none", log_level="warning", access_log=False, lifespan="on")


if __name__ == "__main__":
    main()
