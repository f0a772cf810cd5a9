"""Requests drawn from our own OpenAPI document, and what every answer must keep (issue #18 item 5).

Each case is one operation of `app.openapi()` with path, query, header parameters and a body drawn by
hypothesis from the operation's JSON schemas (`from_schema` below) (often valid, often not: arbitrary JSON, junk bytes, no
body), ids that exist in the database mixed with strange strings, and one surface's token or none. The
checks: no 5xx; under /tmf-api/ every error is a TMF `Error` (`@type`, `code`, `reason`, `status`); a
refused request (4xx) wrote nothing: after the run, no audit row carries its trace id (every write records
one in its transaction, activities/uow.py, with the trace of the request, which sends its own `traceparent`;
rows that workflows of other requests write carry their traces, so requests may run concurrently). Used by tests/api/test_fuzz.py (bounded,
seeded) and bench/fuzz.py (≥ 10,000).
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import re
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

SURFACES = ("cli", None, "portal-self-serve", "portal-csr", "agent", "system")  # the first is the simplest draw
FORMATS = {"date-time", "date", "email", "uri", "uuid", "time"}  # what hypothesis-jsonschema draws
ODD_STRINGS = ("", " ", "0", "-1", "null", "CUST-0", "CUST-99999999999999999999", "..", "%00", "x" * 300,
               "' OR 1=1 --", "\u0000", "\U0001f600", "1e309", "NaN", "[]", "{}")


@dataclass
class Operation:
    """One method on one path of the OpenAPI document."""

    method: str
    path: str
    params: tuple[dict, ...]
    body: dict | None
    body_required: bool


@dataclass
class Case:
    """One request to send."""

    route: str  # "METHOD /template"
    method: str
    url: str
    params: dict[str, str]
    headers: dict[str, str | bytes]
    content: bytes | None
    surface: str | None


@dataclass
class Tally:
    """What a fuzz run saw, in total and per route."""

    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: int = 0
    writes_on_refusal: int = 0
    bad_error_bodies: int = 0
    per_route: dict[str, Counter] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    refusals: dict[str, Case] = field(default_factory=dict)  # trace id -> the refused request
    recorded_refusals: int = 0  # refusals that kept their own record on purpose (RECORDED_REFUSALS)

    def add(self, case: Case, status: int, problems: list[str]) -> None:
        """Count one answer and the problems found in it."""
        self.requests += 1
        self.statuses[status] += 1
        route = self.per_route.setdefault(case.route, Counter())
        route["requests"] += 1
        route[f"{status // 100}xx"] += 1
        for problem in problems:
            self.note(case, problem)

    def note(self, case: Case, problem: str) -> None:
        """Count one problem (`kind: details`) of `case`."""
        kind = problem.split(":", 1)[0]
        self.per_route.setdefault(case.route, Counter())[kind] += 1
        if kind == "5xx":
            self.server_errors += 1
        elif kind == "write on refusal":
            self.writes_on_refusal += 1
        else:
            self.bad_error_bodies += 1
        if len(self.failures) < 50:
            self.failures.append(f"{case.method} {case.url} params={case.params} surface={case.surface} "
                                 f"body={(case.content or b'')[:300]!r}: {problem}")


def _resolved(schema: Any, components: dict) -> Any:
    """`schema` with every `#/components/schemas/…` reference inlined (a cycle becomes `{}`: any value)."""
    def walk(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                return {} if name in seen else walk(components[name], (*seen, name))
            out = {k: walk(v, seen) for k, v in node.items() if k not in ("discriminator", "examples", "example")}
            if out.get("format") not in FORMATS:
                out.pop("format", None)
            return out
        if isinstance(node, list):
            return [walk(item, seen) for item in node]
        return node
    return walk(copy.deepcopy(schema), ())


def operations(doc: dict) -> list[Operation]:
    """Every operation of an OpenAPI document, its references resolved."""
    components = doc.get("components", {}).get("schemas", {})
    found = []
    for path, methods in sorted(doc["paths"].items()):
        for method, op in sorted(methods.items()):
            params = tuple(_resolved(p, components) for p in op.get("parameters", []))
            content = op.get("requestBody", {}).get("content", {})
            body = _resolved(content["application/json"]["schema"], components) if "application/json" in content \
                else None
            found.append(Operation(method.upper(), path, params, body, bool(op.get("requestBody", {}).get("required"))))
    return found


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                   max_size=4), max_leaves=12)


def from_schema(schema: Any, depth: int = 0) -> st.SearchStrategy:
    """Values of a JSON schema (the keywords pydantic writes), biased to valid ones; `{}` is any JSON."""
    if not isinstance(schema, dict) or depth > 6:
        return _JSON
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([from_schema(s, depth + 1) for s in schema[key]])
    if "allOf" in schema:
        merged = {k: v for part in schema["allOf"] if isinstance(part, dict) for k, v in part.items()}
        return from_schema(merged, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": t}, depth + 1) for t in kind])
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        fixed = {k: from_schema(v, depth + 1) for k, v in props.items() if k in required}
        optional = {k: from_schema(v, depth + 1) for k, v in props.items() if k not in required}
        return st.fixed_dictionaries(fixed, optional=optional)
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), depth + 1), min_size=schema.get("minItems", 0),
                        max_size=max(schema.get("minItems", 0), min(schema.get("maxItems", 4), 4)))
    if kind == "string":
        return _strings(schema)
    if kind in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if "exclusiveMinimum" in schema:
            low = schema["exclusiveMinimum"] + 1
        if "exclusiveMaximum" in schema:
            high = schema["exclusiveMaximum"] - 1
        if kind == "integer":
            return st.integers(None if low is None else int(low), None if high is None else int(high))
        return st.floats(low, high, allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return _JSON


def _strings(schema: dict) -> st.SearchStrategy[str]:
    fmt = schema.get("format")
    if fmt == "date-time":
        return st.datetimes().map(lambda d: d.isoformat() + "Z")
    if fmt == "date":
        return st.dates().map(str)
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except re.error:  # a pattern Python's re reads otherwise: any text
            return st.text(max_size=40)
        return st.from_regex(schema["pattern"], fullmatch=True).filter(
            lambda v: len(v) <= schema.get("maxLength", 10**6))
    return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 40), 40))


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return "" if value is None else str(value)


def case_strategy(op: Operation, ids: list[str]) -> st.SearchStrategy[Case]:
    """Requests to `op`: drawn parameters and bodies, known ids, odd strings, every surface."""
    odd = st.sampled_from(ODD_STRINGS) | st.text(max_size=24)
    known = st.sampled_from(ids) if ids else odd

    def param_value(param: dict) -> st.SearchStrategy[str]:
        drawn = from_schema(param.get("schema", {})).map(_as_text)
        return st.one_of(known, drawn, odd) if param["in"] == "path" else st.one_of(drawn, odd)

    path_params = {p["name"]: param_value(p) for p in op.params if p["in"] == "path"}
    query = {p["name"]: (param_value(p), p.get("required", False)) for p in op.params if p["in"] == "query"}
    # Bytes (httpx sends them as they are), printable and not blank at either end (else no HTTP client sends them).
    headers = {p["name"]: param_value(p).map(str.strip).filter(lambda v: v.isprintable() and v != "")
               .map(lambda v: v.encode("latin-1", "replace")) for p in op.params if p["in"] == "header"}
    if op.body is not None:
        valid = from_schema(op.body).map(lambda v: json.dumps(v).encode())
        body = st.one_of(valid, valid, valid, _JSON.map(lambda v: json.dumps(v).encode()),
                         st.binary(max_size=64), st.none())
    else:
        body = st.none() | st.just(b'{"unexpected": true}')

    return _build(op, path_params, query, headers, body, odd, ids)


@st.composite
def _build(draw: Callable, op: Operation, path_params: dict, query: dict, headers: dict,
           body: st.SearchStrategy, odd: st.SearchStrategy, ids: list[str]) -> Case:
    url = op.path
    for name, values in path_params.items():
        url = url.replace("{" + name + "}", quote(draw(values), safe="") or "%20")
    params = {}
    for name, (values, required) in query.items():
        if required or draw(st.booleans()):
            params[name] = draw(values)
    if draw(st.integers(0, 9)) == 0:  # a TMF630 filter or an unknown parameter
        params[draw(st.sampled_from(["fields", "offset", "limit", "sort", "name", "state", "id.like",
                                     "x", "@type"]))] = draw(odd)
    sent = {name: draw(values) for name, values in headers.items() if draw(st.booleans())}
    surface = draw(st.sampled_from(SURFACES))
    if surface == "portal-self-serve" and draw(st.booleans()):
        sent["X-BSS-On-Behalf-Of"] = draw(st.sampled_from([i for i in ids if i.startswith("CUST-")] or ["CUST-1"]))
    content = draw(body)
    if content is not None:
        sent["content-type"] = "application/json"
    return Case(f"{op.method} {op.path}", op.method, url, params, sent, content, surface)


def draw_cases(ops: list[Operation], ids: list[str], count: int, run_seed: int, group: int = 8) -> list[Case]:
    """`count` cases, the same ones for the same seed (generation only: no shrinking, no example database).

    Every operation gets its share, drawn `group` operations per example (hypothesis' cost is per example);
    an operation with fewer distinct requests than its share repeats them.
    """
    share = -(-count // len(ops))
    drawn: dict[int, list[Case]] = {i: [] for i in range(len(ops))}
    for first in range(0, len(ops), group):
        indexes = range(first, min(first + group, len(ops)))

        @settings(max_examples=share, database=None, phases=[Phase.generate], deadline=None,
                  suppress_health_check=list(HealthCheck))
        @seed(run_seed)
        @given(st.tuples(*(case_strategy(ops[i], ids) for i in indexes)))
        def collect(cases: tuple[Case, ...]) -> None:
            for i, case in zip(indexes, cases, strict=True):  # noqa: B023 - run at once, in this iteration
                drawn[i].append(case)

        collect()
    drawn = {i: (cases * share)[:share] for i, cases in drawn.items() if cases}
    rng = random.Random(run_seed)
    # Operations in rounds, each round every operation once in a shuffled order.
    return [drawn[i][n] for n in range(share) for i in rng.sample(range(len(ops)), len(ops)) if i in drawn][:count]


async def known_ids(engine: AsyncEngine, per_table: int = 3) -> list[str]:
    """A few ids of every table that has a text `id` column (they make the fuzz reach past the 404s)."""
    async with engine.connect() as conn:
        tables = (await conn.execute(text(
            "SELECT table_schema, table_name FROM information_schema.columns WHERE column_name = 'id' "
            "AND data_type IN ('text', 'character varying') AND table_schema NOT IN "
            "('pg_catalog', 'information_schema') ORDER BY 1, 2"))).all()
        ids: list[str] = []
        for schema, table in tables:
            rows = await conn.execute(text(f'SELECT id FROM "{schema}"."{table}" ORDER BY id LIMIT {per_table}'))
            ids.extend(r[0] for r in rows)
    return ids


def error_body_problems(path: str, status: int, response: httpx.Response) -> list[str]:
    """What is wrong with an error answer under /tmf-api/ (it must be a TMF `Error`)."""
    if status < 400 or not path.startswith("/tmf-api/"):
        return []
    try:
        body = response.json()
    except ValueError:
        return [f"error body: not JSON ({response.headers.get('content-type')})"]
    if not isinstance(body, dict) or body.get("@type") != "Error" or not body.get("code") \
            or not body.get("reason") or body.get("status") != str(status):
        return [f"error body: not a TMF Error: {str(body)[:200]}"]
    return []


async def send(client: httpx.AsyncClient, case: Case, tokens: dict[str, str], tally: Tally) -> None:
    """Send one case and count its answer in `tally` (a refusal's trace id is kept for `check_writes`)."""
    trace_id = secrets.token_hex(16)
    headers = {**case.headers, "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"}
    if case.surface is not None:
        headers["X-BSS-API-Token"] = tokens[case.surface]
    response = await client.request(case.method, case.url, params=case.params, headers=headers,
                                     content=case.content)
    status = response.status_code
    problems = [f"5xx: {status} {response.text[:300]}"] if status >= 500 else []
    problems += error_body_problems(httpx.URL(case.url).path, status, response)
    if 400 <= status < 500:
        tally.refusals[trace_id] = case
    tally.add(case, status, problems)


async def run_cases(client: httpx.AsyncClient, cases: list[Case], tokens: dict[str, str], concurrency: int = 4,
                    progress: Callable[[int], None] | None = None) -> Tally:
    """Send every case, `concurrency` at a time; return the tally (writes on refusals not yet checked)."""
    tally = Tally()
    pending = iter(cases)

    async def lane() -> None:
        for case in pending:
            await send(client, case, tokens, tally)
            if progress is not None:
                progress(tally.requests)

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return tally


# Refusals whose record is the point: a failed login or code burns an attempt and counts toward the lockout
# (activities/portal_sessions.py), a rejected usage event is kept for the customer's statement.
RECORDED_REFUSALS = ("portal.login.failed", "portal.step_up.failed", "portal.email_change.failed", "usage.rejected")
# The routes whose refusals write on purpose (the attempt and failure counters of the portal logins and codes).
COUNTING_ROUTES = ("POST /portal-api/v1/login", "POST /portal-api/v1/login/code", "POST /portal-api/v1/operator-login",
                   "POST /portal-api/v1/session/{token}/step-up/verify",
                   "POST /portal-api/v1/session/{token}/email-change/verify")


async def check_writes(engine: AsyncEngine, tally: Tally) -> None:
    """Count, per route, the refused requests whose trace an audit row carries: each is a write on a refusal."""
    async with engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT trace_id, event_type FROM audit.domain_event WHERE trace_id = ANY(:ids) ORDER BY id"),
            {"ids": list(tally.refusals)})).all()
    written: dict[str, list[str]] = {}
    for trace_id, event_type in rows:
        written.setdefault(trace_id, []).append(event_type)
    for trace_id, events in written.items():
        if all(event in RECORDED_REFUSALS for event in events):
            tally.recorded_refusals += 1
        else:
            tally.note(tally.refusals[trace_id], f"write on refusal: audit rows of its trace: {events}")


async def write_horizon(engine: AsyncEngine) -> int:
    """The next transaction id PostgreSQL will hand out: it moves only when some transaction writes."""
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_snapshot_xmax(pg_current_snapshot())::text"))).scalar_one())


async def settle(engine: AsyncEngine, quiet_s: float = 1.0, within_s: float = 30.0) -> bool:
    """Wait until nothing has written for `quiet_s` (workflows of earlier requests finishing); False if never."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    horizon = await write_horizon(engine)
    while loop.time() < deadline:
        await asyncio.sleep(quiet_s)
        now = await write_horizon(engine)
        if now == horizon:
            return True
        horizon = now
    return False


async def replay_refusals(client: httpx.AsyncClient, engine: AsyncEngine, tally: Tally, tokens: dict[str, str],
                          limit: int | None = None, confirm: int = 2) -> tuple[int, Counter]:
    """Send the refused cases again, one at a time on a quiet database, and see whether any transaction wrote.

    This needs no audit row: any table written (or a sequence drawing past its cached values) moves the
    transaction horizon. A case that moved it is sent `confirm` more times and counts only if it moves it
    every time (a workflow timer or a dispatcher of earlier requests may write meanwhile). Returns how many
    were replayed refused, and per route how many wrote.
    """
    moved: Counter = Counter()
    replayed = 0
    for case in list(tally.refusals.values())[:limit]:
        wrote = await _writes(client, engine, case, tokens)
        if wrote is None:
            continue
        replayed += 1
        for _ in range(confirm if wrote else 0):
            wrote = wrote and bool(await _writes(client, engine, case, tokens))
        if wrote:
            moved[case.route] += 1
    return replayed, moved


async def _writes(client: httpx.AsyncClient, engine: AsyncEngine, case: Case, tokens: dict[str, str]) -> bool | None:
    """Whether sending `case` moved the transaction horizon; None when it was not refused this time."""
    before = await write_horizon(engine)
    headers = dict(case.headers)
    if case.surface is not None:
        headers["X-BSS-API-Token"] = tokens[case.surface]
    response = await client.request(case.method, case.url, params=case.params, headers=headers, content=case.content)
    if not 400 <= response.status_code < 500:
        return None
    return await write_horizon(engine) != before
