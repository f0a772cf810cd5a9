"""Worker process entry point: `python -m workers.main [QUEUE ...]` (default: every queue)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from core.db import dispose_engines
from core.settings import get_settings
from core.telemetry import instrument_sqlalchemy, setup_tracing, shutdown_tracing
from core.temporal import connect
from workers.charge_reconciler import ChargeReconciler
from workers.event_waker import EventWaker
from workers.factory import build_workers
from workers.line_reconciler import LineReconciler
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


async def run(queue_names: list[str]) -> None:
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
    workers = build_workers(client, queue_names)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    sweepers: list[Sweeper] = []
    if SINGLETONS_QUEUE in queue_names:
        # Every start, idempotently: a stack whose SLA loop ended (or never began) gets it back here.
        started = await start_singletons(client, settings)
        log.info("singleton workflows running: %s", ", ".join(h.id for h in started))
        # Lines whose block/unblock signal was lost get it again, and charges nobody came back for are
        # settled (one sweeper each per system worker).
        sweepers = [LineReconciler(client), ChargeReconciler()]
        for sweeper in sweepers:
            sweeper.start()
    waker = None
    if queues.EVENTS in queue_names:
        # TMF hub dispatchers (and the notifier): started or joined now, then woken by each audit commit.
        waker = EventWaker(client, settings.asyncpg_dsn())
        await waker.start()
    ready = settings.run_dir / "worker.ready"
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


def main() -> None:
    """Run the worker with the queues named on the command line."""
    logging.basicConfig(level=get_settings().log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    queue_names = sys.argv[1:] or list(REGISTRY)
    asyncio.run(run(queue_names))
    # Outside the event loop: the span store exporter drives its own loop to flush.
    shutdown_tracing()


if __name__ == "__main__":
    main()
