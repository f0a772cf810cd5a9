"""Fuzz: ≥ 10,000 requests drawn from our OpenAPI document against a private stack; counts per route.

    .venv/bin/python bench/fuzz.py                     # 10,000 requests, seed 18
    .venv/bin/python bench/fuzz.py --requests 20000 --seed 7 --routes   # and the counts of every route

Everything is private and real, as in the tests: a throwaway embedded PostgreSQL (migrated and seeded),
the Temporal dev server, every task queue's worker and the API on uvicorn (with the API's own HTTP
protocol, apis/limits.py) in this process. One customer with a card is made first so that drawn ids reach
past the 404s. The cases and the checks are tests/support/fuzzing.py's (tests/api/test_fuzz.py runs 1,000):
no 5xx, a TMF `Error` for every error under /tmf-api/, no audit row carrying the trace of a refused request.
Then, on a quiet database, `--replay` refusals are sent again one at a time while PostgreSQL's transaction
horizon is watched: a write to any table (audited or not) moves it. Prints the totals, the routes with a
problem (or the 10 with the most 2xx), the first failures and the replay; exits 1 when a count that must
be 0 is not.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Settings are read once, at first use: a private home, a token per surface, no span store, before any import.
TOKENS = {"cli": "bench-fuzz-cli-00000000000000000000", "portal-self-serve": "bench-fuzz-self-serve-00000000000",
          "portal-csr": "bench-fuzz-csr-00000000000000000000", "agent": "bench-fuzz-agent-000000000000000000",
          "system": "bench-fuzz-system-00000000000000000"}
os.environ.update({"BSS_ENV": "test", "BSS_HOME": tempfile.mkdtemp(prefix="bss-bench-fuzz-"),
                   "BSS_SPAN_STORE_ENABLED": "false", "BSS_API_TOKEN_CLI": TOKENS["cli"],
                   "BSS_API_TOKEN_SELF_SERVE": TOKENS["portal-self-serve"], "BSS_API_TOKEN_CSR": TOKENS["portal-csr"],
                   "BSS_API_TOKEN_AGENT": TOKENS["agent"], "BSS_API_TOKEN_SYSTEM": TOKENS["system"]})
os.environ.pop("BSS_DATABASE_URL", None)
os.environ.pop("TEMPORAL_ADDRESS", None)


async def fuzz_bench(args: argparse.Namespace) -> int:
    """Start the private parts, draw and send the requests, print the counts, stop everything."""
    import httpx

    from apis.limits import header_limited_protocol
    from core.settings import get_settings
    from tests.support.factories import ready_customer
    from tests.support.fuzzing import (
        COUNTING_ROUTES,
        check_writes,
        draw_cases,
        known_ids,
        operations,
        replay_refusals,
        run_cases,
        settle,
    )
    from tests.support.inprocess import in_process_stack

    protocol = header_limited_protocol(get_settings().request_max_header_bytes)
    try:
        async with in_process_stack("fuzz", http=protocol) as stack, \
                httpx.AsyncClient(base_url=stack.url, timeout=60) as client:
            async with httpx.AsyncClient(base_url=stack.url, headers={"X-BSS-API-Token": TOKENS["cli"]},
                                         timeout=60) as cli:
                await ready_customer(cli)
            ops = operations((await client.get("/openapi.json")).json())
            began = time.perf_counter()
            cases = draw_cases(ops, await known_ids(stack.engine), args.requests, args.seed)
            drawn = time.perf_counter()
            tally = await run_cases(client, cases, TOKENS, args.concurrency,
                                    lambda n: n % 1000 == 0 and print(f"  … {n} requests", flush=True))
            sent = time.perf_counter()
            await check_writes(stack.engine, tally)
            quiet = await settle(stack.engine)
            replay = await replay_refusals(client, stack.engine, tally, TOKENS, args.replay)
        report(args, len(ops), tally, drawn - began, sent - drawn)
        replayed, moved = replay
        counting = sum(n for route, n in moved.items() if route in COUNTING_ROUTES)
        print(f"  replayed {replayed} refusals one at a time on a {'quiet' if quiet else 'NOT quiet'} database: "
              f"{sum(moved.values()) - counting} moved PostgreSQL's transaction horizon (some transaction wrote), "
              f"besides {counting} on routes that count failed attempts on purpose"
              + "".join(f"\n    {route}: {n}" for route, n in moved.most_common()))
        unexpected = sum(moved.values()) - counting
        return 1 if tally.server_errors or tally.writes_on_refusal or tally.bad_error_bodies or unexpected else 0
    finally:
        shutil.rmtree(os.environ["BSS_HOME"], ignore_errors=True)


def report(args: argparse.Namespace, operations: int, tally, draw_s: float, send_s: float) -> None:
    """Print the totals, the routes to look at and the first failures."""
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    classes = {f"{c}xx": sum(n for s, n in tally.statuses.items() if s // 100 == c) for c in (2, 3, 4, 5)}
    print(f"fuzz: {tally.requests} requests over {operations} operations ({len(tally.per_route)} reached), "
          f"seed {args.seed}, {args.concurrency} at a time; drawn in {draw_s:.1f} s, sent in {send_s:.1f} s; "
          f"load average now {load}")
    print("  answers: " + ", ".join(f"{k} {v}" for k, v in classes.items()) + "; by status: "
          + ", ".join(f"{s} {n}" for s, n in sorted(tally.statuses.items())))
    print(f"  5xx {tally.server_errors}, writes on refusals {tally.writes_on_refusal} (of {len(tally.refusals)} "
          f"refusals checked; {tally.recorded_refusals} kept only their own record, e.g. a failed login), "
          f"error bodies not TMF {tally.bad_error_bodies}")
    flagged = {r: c for r, c in tally.per_route.items() if c["5xx"] or c["write on refusal"] or c["error body"]}
    shown = flagged or dict(sorted(tally.per_route.items(), key=lambda rc: -rc[1]["2xx"])[:10])
    if args.routes:
        shown = tally.per_route
        print("  every route:")
    else:
        print("  routes with a problem:" if flagged else "  routes with the most 2xx (no route has a problem):")
    for route, counts in sorted(shown.items()):
        print(f"    {route:<72} requests {counts['requests']:>4}  2xx {counts['2xx']:>4}  4xx {counts['4xx']:>4}  "
              f"5xx {counts['5xx']:>3}  writes {counts['write on refusal']:>3}  bad errors {counts['error body']:>3}")
    for failure in tally.failures[:10]:
        print(f"  ! {failure[:400]}")


def main() -> None:
    """Parse options and run the fuzz."""
    import uvloop

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--routes", action="store_true", help="print the counts of every route")
    parser.add_argument("--replay", type=int, default=2000,
                        help="refusals sent again one at a time, watching for any write (no audit row needed)")
    sys.exit(uvloop.run(fuzz_bench(parser.parse_args())))  # the loop the API runs on in the stack


if __name__ == "__main__":
    main()
