"""What tracing costs per SQL statement: `SELECT 1` through our engine (core/db.py), untraced,
with the contrib OpenTelemetry SQLAlchemy instrumentation and with core/sql_tracing.py.

The contrib package is no longer a dependency; the comparison runs when it is installed
(`uv pip install --python .venv/bin/python opentelemetry-instrumentation-sqlalchemy`;
`uv pip sync --python .venv/bin/python requirements.lock` removes it again).

    .venv/bin/python bench/sql_overhead.py [--statements 250] [--rounds 40]

Runs against the database of a running stack (`bss up`; the BSS_HOME / BSS_DATABASE_URL settings
of a private one). Each mode runs the statements one after another on one pooled connection inside
a parent span, once in a recorded trace and once in a trace the sampler dropped. Every round runs
each mode in a random order, short runs, so a shared machine's load falls on all of them alike;
printed in µs per statement: the median wall time and this process's CPU (which includes the batch
span processor's thread; its exporter only counts the spans), and the median over rounds of the
CPU a mode adds to the untraced run of the same round. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import sql_tracing
from core.db import make_engine
from core.settings import get_settings

STATEMENT = text("SELECT 1")


class CountingExporter(SpanExporter):
    """Drops the spans, counting the SQL ones (the span store's export is not what is measured)."""

    def __init__(self) -> None:
        self.sql_spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.sql_spans += sum(1 for s in spans if (s.attributes or {}).get("db.system"))
        return SpanExportResult.SUCCESS


def recorded() -> AbstractContextManager:
    """A parent span the sampler keeps (BSS_TRACE_SAMPLE_RATIO=1, the default)."""
    return trace.get_tracer("bench").start_as_current_span("bench")


def dropped() -> AbstractContextManager:
    """A parent span the sampler dropped: what every statement of an unsampled trace runs under."""
    return trace.use_span(NonRecordingSpan(SpanContext(0x5EED, 0x1, is_remote=False, trace_flags=TraceFlags(0))))


async def per_statement(engine: AsyncEngine, n: int, parent: Callable[[], AbstractContextManager]) -> tuple[float, float]:
    """Wall and CPU µs per statement of `n` statements on one connection under `parent`."""
    with parent():
        async with engine.connect() as conn:
            await conn.execute(STATEMENT)  # checkout, compile and cache outside the timing
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(n):
                await conn.execute(STATEMENT)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall / n * 1e6, cpu / n * 1e6


def contrib_engine(url: str) -> AsyncEngine | None:
    """An engine traced by the contrib instrumentation as core/telemetry.py set it up, or None."""
    try:
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
        from opentelemetry.instrumentation.utils import unwrap
    except ImportError:
        return None
    from sqlalchemy.engine import Engine

    engine = make_engine(url)
    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, enable_commenter=False)
    unwrap(Engine, "connect")  # production dropped the pool-checkout span
    return engine


async def main(n: int, rounds: int) -> None:
    provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(1.0)))
    exporter = CountingExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=200, max_export_batch_size=512))
    trace.set_tracer_provider(provider)
    url = get_settings().sqlalchemy_url()
    plain, contrib = make_engine(url), contrib_engine(url)
    modes: dict[str, tuple[AsyncEngine, Callable[[], None]]] = {"untraced": (plain, sql_tracing.uninstrument)}
    if contrib is not None:
        modes["contrib"] = (contrib, sql_tracing.uninstrument)
    modes["sql_tracing"] = (plain, sql_tracing.instrument)
    parents = {"recorded": recorded, "dropped": dropped}
    runs = [(mode, label) for mode in modes for label in parents]
    results: dict[tuple[str, str], list[tuple[float, float]]] = {run: [] for run in runs}
    spans = dict.fromkeys(modes, 0)
    for _ in range(rounds):
        for mode, label in random.sample(runs, len(runs)):  # no mode always runs first or last
            engine, setup = modes[mode]
            setup()
            before = exporter.sql_spans
            results[(mode, label)].append(await per_statement(engine, n, parents[label]))
            provider.force_flush()
            spans[mode] += exporter.sql_spans - before
    sql_tracing.uninstrument()
    for engine in {plain, contrib} - {None}:
        await engine.dispose()
    provider.shutdown()

    print(f"{rounds} rounds of {n} × SELECT 1 per mode, µs per statement: median wall / CPU, and the CPU "
          "added to the untraced run of the same round (median)")
    if contrib is None:
        print("  contrib: opentelemetry-instrumentation-sqlalchemy is not installed")
    for mode in modes:
        cells = []
        for label in parents:
            own, base = results[(mode, label)], results[("untraced", label)]
            wall, cpu = (statistics.median(run[i] for run in own) for i in (0, 1))
            added = statistics.median(o[1] - b[1] for o, b in zip(own, base, strict=True))
            cells.append(f"{label} {wall:6.1f} / {cpu:6.1f} (+{added:5.1f})")
        print(f"  {mode:<12} " + "   ".join(cells) + f"   SQL spans exported {spans[mode]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=250, help="statements per run")
    parser.add_argument("--rounds", type=int, default=40, help="rounds over every mode")
    args = parser.parse_args()
    asyncio.run(main(args.statements, args.rounds))
