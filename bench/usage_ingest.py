"""Usage ingestion: wrk posting unique TMF635 events at a running stack, then the accounting read back from the database.

    . /tmp/my-stack-env.sh                       # BSS_HOME and ports of a private `bss up` stack (seeded)
    .venv/bin/python bench/usage_ingest.py       # 200 PLAN_L lines, 16 clients, 60 s, then bare + pgbench

1. Lines (once per stack, kept in `$BSS_HOME/bench-usage-lines.txt`): `--lines` real lines
   (`bench/lines.py open`) with their workflows started, plus one PLAN_S line whose data is used
   up by one big event through the API, so it is blocked; every 20th request goes to it and must
   be recorded as rejected without touching any balance.
2. `wrk -t2 -c16 -d60s -s bench/usage_wrk.lua` (a fresh event id per request); CPU seconds of the
   API, PostgreSQL, worker and Temporal over the run; load average before and after.
3. Accounting from the database for this run's event ids: rated/rejected counts, sum of charged
   quantities against the sum of balance decrements (every allowance of the bench lines, before
   vs after), quantities sent vs charged, the blocked line's balance unchanged; rated events per
   10 s of server time (is the rate sustained?).
4. Calibration on the same machine, same wrk script and connections: `bench/bare_usage_app.py`
   (FastAPI + asyncpg, three statements per transaction) and `pgbench -N` on the stack's embedded
   PostgreSQL; prints our ratio to both. Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import text

USAGE = "/tmf-api/usageManagement/v4/usage"
LUA = ROOT / "bench" / "usage_wrk.lua"
BARE_PORT_OFFSET = 10  # the calibration app listens on the API port + 10


def load() -> str:
    """The 1/5/15-minute load averages, as `uptime` prints them."""
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


# --- lines ------------------------------------------------------------------------------------------

async def prepare_lines(count: int, offering: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(rated lines, blocked lines) as (subscription id, msisdn); made once per stack and remembered."""
    from lines import msisdns, open_lines, start_workflows

    from core.settings import get_settings

    listing = get_settings().home / "bench-usage-lines.txt"
    if not listing.exists():
        began = time.perf_counter()
        subs = await open_lines(count, offering, concurrency=8)
        (blocked,) = await open_lines(1, "PLAN_S", concurrency=1)
        await start_workflows([*subs, blocked])
        await _exhaust(blocked, (await msisdns([blocked]))[0])
        await _parked(len(subs) + 1)
        numbers = await msisdns([*subs, blocked])
        listing.write_text("".join(f"{s} {m} {'blocked' if s == blocked else 'rate'}\n"
                                   for s, m in zip([*subs, blocked], numbers, strict=True)))
        print(f"made {count} {offering} lines + 1 blocked PLAN_S line in {time.perf_counter() - began:.1f} s")
    rows = [line.split() for line in listing.read_text().splitlines()]
    return [(s, m) for s, m, k in rows if k == "rate"], [(s, m) for s, m, k in rows if k == "blocked"]


async def _parked(count: int) -> None:
    """Wait until the new lines' workflows are parked on their timers, so their start-up is not measured."""
    from workflow_memory import wait_idle

    from core.temporal import connect

    waited = await wait_idle(await connect(), count, stack_pids()["worker"], timeout=300)
    print(f"workflows parked after {waited:.1f} s")


async def _exhaust(subscription_id: str, msisdn: str) -> None:
    """Use up the line's data with one event through the API (it blocks the line and signals its workflow)."""
    import httpx

    from core.settings import get_settings

    settings = get_settings()
    body = {"usageType": "data", "usageCharacteristic": [
        {"name": "msisdn", "value": msisdn}, {"name": "quantity", "value": 10**6}, {"name": "unit", "value": "MB"},
        {"name": "eventId", "value": f"bench-exhaust-{subscription_id}"}]}
    async with httpx.AsyncClient(base_url=settings.api_base_url,
                                 headers={"X-BSS-API-Token": settings.api_token_cli}) as api:
        response = await api.post(USAGE, json=body)
    print(f"exhausting {subscription_id}: {response.status_code} lineBlocked="
          f"{response.json().get('ratedProductUsage', [{}])[0].get('lineBlocked')}")


# --- wrk ----------------------------------------------------------------------------------------------

def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(url: str, msisdns: list[str], rejects: list[str], args: argparse.Namespace, run: str,
            token: str = "") -> dict:
    """Run wrk with the usage script; return req/s, p50/p90/p99 (ms) and status counts."""
    env = {**os.environ, "USAGE_MSISDNS": ",".join(msisdns), "USAGE_REJECT_MSISDNS": ",".join(rejects),
           "BSS_TOKEN": token or "none", "USAGE_RUN": run}
    out = subprocess.run(["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
                          "-s", str(LUA), url], env=env, capture_output=True, text=True, check=True).stdout
    result: dict = {"raw": out}
    for pct in ("50", "90", "99"):
        result[f"p{pct}"] = _ms(re.search(rf"^\s+{pct}%\s+(\S+)", out, re.MULTILINE).group(1))
    result["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    codes = re.search(r"status codes:(.*)", out).group(1)
    result["codes"] = {int(c): int(n) for c, n in re.findall(r"(\d+)=(\d+)", codes)}
    errors = re.search(r"Socket errors:.*", out)
    result["socket_errors"] = errors.group(0) if errors else ""
    return result


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User+system CPU seconds of each component's process tree, with children that ended and were reaped.

    PostgreSQL's backends end with their connection (pgbench's), and the postmaster reaps them:
    their time is in its `children_*` times.
    """
    used = {}
    for name, pid in pids.items():
        total = 0.0
        try:
            root = psutil.Process(pid)
            reaped = root.cpu_times()
            total += reaped.children_user + reaped.children_system
            for proc in [root, *root.children(recursive=True)]:
                try:
                    t = proc.cpu_times()
                    total += t.user + t.system
                except psutil.NoSuchProcess:
                    pass
        except psutil.NoSuchProcess:
            pass
        used[name] = total
    return used


def stack_pids() -> dict[str, int]:
    """Pid of each running component of the stack the settings point at."""
    from cli.stack.status import collect
    from core.settings import get_settings

    return {row.name: row.pid for row in collect(get_settings()) if row.pid}


# --- accounting ------------------------------------------------------------------------------------------

CONSUMED = text("SELECT coalesce(sum(consumed), 0) FROM subscription.bundle_balance WHERE subscription_id = ANY(:s)")
BY_STATUS = text("""
SELECT status, usage_type, coalesce(reject_code, '') AS code, count(*) AS n, sum(quantity) AS quantity,
       sum(charged_quantity) AS charged
  FROM mediation.usage_record WHERE event_id LIKE :prefix GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""")
PER_10S = text("""
SELECT bucket, count(*) FROM (
  SELECT floor(extract(epoch FROM received_at - min(received_at) OVER ()) / 10) AS bucket
    FROM mediation.usage_record WHERE event_id LIKE :prefix AND status = 'rated') AS b
 GROUP BY 1 ORDER BY 1""")
STRAGGLERS = text("SELECT count(*) FROM subscription.subscription WHERE id = ANY(:s) AND state <> 'active'")


async def consumed(subs: list[str]) -> int:
    """Sum of `consumed` over every balance of the given lines."""
    from core.db import get_engine

    async with get_engine().connect() as conn:
        return int((await conn.execute(CONSUMED, {"s": subs})).scalar_one())


async def accounting(run: str, rated_subs: list[str], blocked_subs: list[str], before: dict[str, int],
                     codes: dict[int, int]) -> dict:
    """Read this run's records and the balances back; print the exact-accounting check."""
    from core.db import get_engine

    prefix = f"wrk-{run}-%"
    async with get_engine().connect() as conn:
        groups = [dict(r._mapping) for r in (await conn.execute(BY_STATUS, {"prefix": prefix})).all()]
        buckets = (await conn.execute(PER_10S, {"prefix": prefix})).all()
        not_active = (await conn.execute(STRAGGLERS, {"s": rated_subs})).scalar_one()
    rated = [g for g in groups if g["status"] == "rated"]
    rejected = [g for g in groups if g["status"] == "rejected"]
    charged = sum(int(g["charged"]) for g in rated)
    sent = sum(int(g["quantity"]) for g in rated)
    decrement = await consumed(rated_subs) - before["rated"]
    blocked_change = await consumed(blocked_subs) - before["blocked"]
    n_rated, n_rejected = sum(g["n"] for g in rated), sum(g["n"] for g in rejected)
    print("accounting (database, this run's event ids):")
    for g in groups:
        print(f"  {g['status']:<9}{g['usage_type']:<6}{g['code']:<42}{g['n']:>8}  quantity {int(g['quantity']):>10}"
              f"  charged {int(g['charged']):>10}")
    print(f"  rated {n_rated} (wrk saw 201 x {codes.get(201, 0)}), rejected {n_rejected} "
          f"(wrk saw 422 x {codes.get(422, 0)}); other statuses from wrk: "
          f"{ {c: n for c, n in codes.items() if c not in (201, 422)} or 'none'}")
    print(f"  sum of charged quantities {charged}  ==  sum of balance decrements {decrement}: {charged == decrement} "
          f"(difference {decrement - charged})")
    print(f"  quantities of rated events {sent}, charged {charged} (no partial charges: {sent == charged})")
    print(f"  blocked line's balances changed by {blocked_change}; bench lines not active any more: {not_active}")
    print("  rated per 10 s of server time: " + " ".join(str(n) for _, n in buckets))
    return {"rated": n_rated, "rejected": n_rejected, "exact": charged == decrement and blocked_change == 0}


# --- calibration ---------------------------------------------------------------------------------------

def bare_run(args: argparse.Namespace, run: str) -> dict:
    """Start the bare FastAPI + asyncpg app on a database of the stack's server, wrk it, stop it."""
    from bare_usage_app import bare_msisdns

    from core.settings import get_settings

    settings = get_settings()
    _admin_sql("DROP DATABASE IF EXISTS bench_bare", "CREATE DATABASE bench_bare")
    port = settings.api_port + BARE_PORT_OFFSET
    app = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bare_usage_app.py"), "--port", str(port),
                            "--dsn", settings.asyncpg_dsn("bench_bare"), "--lines", str(args.lines)])
    try:
        _wait_port(port)
        pids = {"app": app.pid, "postgres": stack_pids()["postgres"]}
        cpu0 = cpu_seconds(pids)
        result = run_wrk(f"http://127.0.0.1:{port}", bare_msisdns(args.lines), [], args, run)
        result["cpu_ms"] = per_request(cpu0, cpu_seconds(pids), sum(result["codes"].values()))
        return result
    finally:
        app.terminate()
        app.wait(10)


def _wait_port(port: int, timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def _admin_sql(*statements: str) -> None:
    async def go() -> None:
        import asyncpg

        from core.settings import get_settings

        conn = await asyncpg.connect(get_settings().asyncpg_dsn("postgres"))
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(go())


def pgbench_run(args: argparse.Namespace) -> dict:
    """`pgbench -N` (TPC-B without the branch/teller updates) on the stack's PostgreSQL, same client count."""
    from cli.stack.postgres import bin_dir
    from core.settings import get_settings

    socket_dir = str(get_settings().pg_data_dir)
    pgbench = str(bin_dir() / "pgbench")
    _admin_sql("DROP DATABASE IF EXISTS bench_pgbench", "CREATE DATABASE bench_pgbench")
    common = ["-h", socket_dir, "-U", "postgres"]
    subprocess.run([pgbench, "-i", "-q", "-s", "10", *common, "bench_pgbench"], check=True, capture_output=True)
    pids = {"postgres": stack_pids()["postgres"]}
    cpu0, own0 = cpu_seconds(pids), _children_cpu()
    out = subprocess.run([pgbench, "-N", "-c", str(args.connections), "-j", str(args.threads), "-T",
                          str(args.duration), *common, "bench_pgbench"], check=True, capture_output=True,
                         text=True).stdout
    time.sleep(2)  # let the postmaster reap pgbench's backends: their CPU then shows in its children's times
    cpu1 = cpu_seconds(pids)
    cpu1["pgbench"], cpu0["pgbench"] = _children_cpu(), own0
    _admin_sql("DROP DATABASE IF EXISTS bench_pgbench", "DROP DATABASE IF EXISTS bench_bare")
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))
    transactions = int(re.search(r"number of transactions actually processed: (\d+)", out).group(1))
    return {"tps": tps, "latency": latency, "cpu_ms": per_request(cpu0, cpu1, transactions)}


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def per_request(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
    """CPU milliseconds per request of each process group between two readings."""
    return {name: 1000 * (after[name] - before[name]) / max(requests, 1) for name in before}


def fmt_cpu(cpu_ms: dict[str, float]) -> str:
    """`name 1.23` pairs and their sum, in CPU ms per request."""
    return ", ".join(f"{n} {v:.2f}" for n, v in cpu_ms.items()) + f" (sum {sum(cpu_ms.values()):.2f})"


async def pg_settings() -> str:
    """The durability settings of the stack's PostgreSQL (they bound commit cost)."""
    from core.db import get_engine

    async with get_engine().connect() as conn:
        values = [(await conn.execute(text(f"SHOW {name}"))).scalar_one()
                  for name in ("fsync", "synchronous_commit", "shared_buffers")]
    return f"fsync={values[0]} synchronous_commit={values[1]} shared_buffers={values[2]}"


# --- main ----------------------------------------------------------------------------------------------

async def ours(args: argparse.Namespace, run: str) -> dict:
    """Lines, wrk against the stack's API, accounting."""
    from core.settings import get_settings

    settings = get_settings()
    rated, blocked = await prepare_lines(args.lines, args.offering)
    rated_subs, blocked_subs = [s for s, _ in rated], [s for s, _ in blocked]
    print(f"{len(rated)} lines rate, {len(blocked)} blocked; PostgreSQL {await pg_settings()}")
    before = {"rated": await consumed(rated_subs), "blocked": await consumed(blocked_subs)}
    pids = stack_pids()
    cpu0, load0, began = cpu_seconds(pids), load(), time.perf_counter()
    result = await asyncio.to_thread(run_wrk, settings.api_base_url, [m for _, m in rated], [m for _, m in blocked],
                                     args, run, settings.api_token_cli)
    wall = time.perf_counter() - began
    cpu1, load1 = cpu_seconds(pids), load()
    requests = sum(result["codes"].values())
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, run {run}, load {load0} -> {load1}")
    print(result["raw"].strip())
    print("CPU seconds over the run: " + ", ".join(f"{n} {cpu1[n] - cpu0[n]:.1f}" for n in pids)
          + f" (wall {wall:.1f} s)")
    result["cpu_ms"] = per_request({n: cpu0[n] for n in ("api", "postgres")}, cpu1, requests)
    print(f"CPU ms per request: {fmt_cpu(result['cpu_ms'])}")
    result.update(await accounting(run, rated_subs, blocked_subs, before, result["codes"]))
    result["rated_per_s"] = result["codes"].get(201, 0) / args.duration
    result["load"] = (load0, load1)
    return result


def main() -> None:
    """Run the ingestion bench and its calibrations; print everything."""
    from core.db import dispose_engines

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200, help="lines to spread events over (made once per stack)")
    parser.add_argument("--offering", default="PLAN_L")
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-calibration", action="store_true", help="only our endpoint")
    args = parser.parse_args()
    run = f"{int(time.time())}"

    async def measure_ours() -> dict:
        try:
            return await ours(args, run)
        finally:
            await dispose_engines()

    result = asyncio.run(measure_ours())
    summary = (f"OURS: rated/s {result['rated_per_s']:.0f} (req/s {result['rps']:.0f}), p50 {result['p50']:.1f} ms, "
               f"p99 {result['p99']:.1f} ms, rejected {result['rejected']}, exact accounting {result['exact']}, "
               f"load {result['load'][0]} -> {result['load'][1]}; CPU ms/request {fmt_cpu(result['cpu_ms'])}")
    if not args.skip_calibration:
        l0 = load()
        bare = bare_run(args, run)
        print(f"BARE FastAPI+asyncpg (3 statements/txn): req/s {bare['rps']:.0f}, p50 {bare['p50']:.1f} ms, "
              f"p99 {bare['p99']:.1f} ms, codes {bare['codes']} {bare['socket_errors']}, load {l0} -> {load()}; "
              f"CPU ms/request {fmt_cpu(bare['cpu_ms'])}")
        l0 = load()
        pg = pgbench_run(args)
        print(f"PGBENCH -N -c{args.connections} -j{args.threads} -T{args.duration}: tps {pg['tps']:.0f}, "
              f"latency avg {pg['latency']:.2f} ms, load {l0} -> {load()}; CPU ms/transaction {fmt_cpu(pg['cpu_ms'])}")
        ours_cpu, bare_cpu, pg_cpu = (sum(x["cpu_ms"].values()) for x in (result, bare, pg))
        summary += (f"\nRATIO (throughput, same load only): ours / bare = {result['rated_per_s'] / bare['rps']:.3f}, "
                    f"ours / pgbench -N = {result['rated_per_s'] / pg['tps']:.3f}"
                    f"\nRATIO (CPU per request, server side): ours {ours_cpu:.2f} ms = {ours_cpu / bare_cpu:.1f}x bare "
                    f"({bare_cpu:.2f} ms), {ours_cpu / pg_cpu:.1f}x pgbench -N ({pg_cpu:.2f} ms incl. pgbench)")
    print(summary)


if __name__ == "__main__":
    main()
