"""Worker process entry point: `python -m workers.main [--name NAME] [--queues payments,orders] [QUEUE ...]`.

Every queue when none is named. `bss up --workers N` runs several, each named and serving its share
of the queues (cli/stack/layout.py); NAME is its component name, written beside its ready file.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from core.db import dispose_engines
from core.settings import Settings, get_settings
from core.telemetry import instrument_sqlalchemy, setup_tracing, shutdown_tracing
from core.temporal import connect
from workers.charge_reconciler import ChargeReconciler
from workers.event_waker import EventWaker
from workers.factory import build_workers
from workers.line_reconciler import LineReconciler
from workers.order_reconciler import OrderReconciler
from workers.registry import REGISTRY
from workers.singletons import QUEUE as SINGLETONS_QUEUE
from workers.singletons import start_singletons
from workers.sweeper import Sweeper
from workflows import queues

log = logging.getLogger("bss.worker")


async def _connect_with_retry(deadline_s: float = 60.0):
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + deadline_s
    while True:
        try:
            return await connect()
        except Exception as exc:  # Temporal may still be starting beside us
            if loop.time() > stop_at:
                raise
            log.info("waiting for Temporal: %s", exc)
            await asyncio.sleep(0.1)


def tuning(settings: Settings, queue: str) -> dict[str, int]:
    """The Worker options of `queue` (full name): the settings' defaults, then its `worker_tuning` entry."""
    options = {"max_cached_workflows": settings.worker_max_cached_workflows,
               "max_concurrent_activities": settings.worker_max_concurrent_activities,
               "max_concurrent_workflow_tasks": settings.worker_max_concurrent_workflow_tasks}
    unknown = set(settings.worker_tuning.get(queue.removeprefix("bss-"), {})) - set(options)
    if unknown:
        raise ValueError(f"BSS_WORKER_TUNING for {queue}: unknown option(s) {sorted(unknown)}; use {sorted(options)}")
    return options | settings.worker_tuning.get(queue.removeprefix("bss-"), {})


async def run(queue_names: list[str], name: str = "worker") -> None:
    """Serve the given task queues until SIGTERM/SIGINT."""
    settings = get_settings()
    setup_tracing("bss-worker", settings)
    instrument_sqlalchemy()
    client = await _connect_with_retry()
    follower = None
    if settings.time_skipping:
        # Activities stamp business time with core.clock: follow the stack offset (DESIGN.md §6).
        from activities.stack_clock import OffsetFollower

        follower = OffsetFollower(settings)
        await follower.start()
    # One Worker per queue, each with its own slots and sticky cache (tuned per queue from the settings).
    workers = [w for queue in queue_names for w in build_workers(client, [queue], **tuning(settings, queue))]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    sweepers: list[Sweeper] = []
    if SINGLETONS_QUEUE in queue_names:
        # Every start, idempotently: a stack whose SLA loop ended (or never began) gets it back here.
        started = await start_singletons(client, settings)
        log.info("singleton workflows running: %s", ", ".join(h.id for h in started))
        # Lines whose block/unblock signal was lost get it again, orders accepted but never run are run,
        # and charges nobody came back for are settled (one sweeper each per system worker).
        sweepers = [LineReconciler(client), OrderReconciler(client), ChargeReconciler()]
        for sweeper in sweepers:
            sweeper.start()
    waker = None
    if queues.EVENTS in queue_names:
        # TMF hub dispatchers (and the notifier): started or joined now, then woken by each audit commit.
        waker = EventWaker(client, settings.asyncpg_dsn())
        await waker.start()
    ready = settings.run_dir / f"{name}.ready"
    ready.parent.mkdir(parents=True, exist_ok=True)
    ready.write_text(str(os.getpid()))
    log.info("worker ready on %s", ", ".join(queue_names))
    stopping = asyncio.create_task(stop.wait())
    # A worker whose run ended on its own (the SDK gave up polling) must not leave a process that
    # looks ready and serves nothing: stop everything and exit non-zero, so `bss status` shows it
    # down and `bss up` starts a fresh one. A Temporal restart does not end a run (it reconnects).
    await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
    ended = [t for t in tasks if t.done()]
    stopping.cancel()
    for sweeper in sweepers:
        await sweeper.stop()
    if waker is not None:
        await waker.stop()
    await asyncio.gather(*(w.shutdown() for w in workers if not w.is_shutdown))
    await asyncio.gather(*tasks, return_exceptions=True)
    if follower is not None:
        await follower.stop()
    await dispose_engines()
    if ended and not stop.is_set():
        ready.unlink(missing_ok=True)
        causes = [t.exception() for t in ended if not t.cancelled() and t.exception() is not None]
        raise RuntimeError(f"a worker stopped serving its queues: {causes or 'it returned'}")


def parse_args(argv: list[str]) -> tuple[str, list[str]]:
    """Return (component name, full task queue names) from the command line; every queue by default."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m workers.main", description="Serve BSS task queues.")
    parser.add_argument("--name", default="worker", help="component name (its ready file is run/NAME.ready)")
    parser.add_argument("--queues", default="", help="comma-separated queues, short (payments) or full names")
    parser.add_argument("queue", nargs="*", help="task queues (full names), as before --queues")
    args = parser.parse_args(argv)
    named = [q.strip() for q in args.queues.split(",") if q.strip()] + args.queue
    full = [q if q in REGISTRY else f"bss-{q}" for q in named]
    unknown = [q for q in full if q not in REGISTRY]
    if unknown:
        parser.error(f"unknown task queue(s) {unknown}; choose from {', '.join(REGISTRY)}")
    return args.name, list(dict.fromkeys(full)) or list(REGISTRY)


def main() -> None:
    """Run the worker with the queues named on the command line."""
    logging.basicConfig(level=get_settings().log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    name, queue_names = parse_args(sys.argv[1:])
    asyncio.run(run(queue_names, name))
    # Outside the event loop: the span store exporter drives its own loop to flush.
    shutdown_tracing()


if __name__ == "__main__":
    main()
