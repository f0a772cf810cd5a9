"""Which task queues each worker process of `bss up` serves (`--workers N`, BSS_WORKER_PROCS, BSS_WORKER_LAYOUT).

One process (`worker`) serves every queue. From two on, queues are given processes of their own in
`DEDICATED` order and `worker` keeps the rest: payments first, so a slow network element
(provisioning) or a burst of order workflows never delays a charge behind a busy event loop; then the
queues whose work costs the most CPU. Past one process per queue, more processes replicate the queues
whose workflows cost the CPU (Temporal hands a queue's tasks to whichever poller asks).
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows import queues

SHORT = {name.removeprefix("bss-"): name for name in queues.ALL}  # "payments" -> "bss-payments"
DEDICATED = ("payments", "orders", "provisioning", "subscriptions", "events", "system")
REPLICATED = ("orders", "subscriptions")
# One process each at most: the singleton workflows and sweepers start with `system`, the event waker with `events`.
SINGLE = ("system", "events")
MAIN = "worker"


@dataclass(frozen=True)
class WorkerProc:
    """One worker process: its component name and the queues (short names) it polls."""

    name: str
    queues: tuple[str, ...]

    @property
    def task_queues(self) -> tuple[str, ...]:
        """The full Temporal task queue names."""
        return tuple(SHORT[q] for q in self.queues)


class LayoutError(ValueError):
    """A worker layout that names an unknown queue, leaves a queue unserved or doubles a singleton."""


def default_layout(count: int) -> list[WorkerProc]:
    """Return the layout of `count` worker processes (see the module docstring)."""
    if count < 1:
        raise LayoutError(f"at least one worker process is needed, not {count}")
    alone = DEDICATED[:min(count - 1, len(DEDICATED) - 1)]
    rest = tuple(q for q in SHORT if q not in alone)
    procs = [WorkerProc(f"{MAIN}:{q}", (q,)) for q in alone]
    # `worker` keeps the rest; named after its queue once it serves only one (every queue alone).
    procs.append(WorkerProc(MAIN if len(rest) > 1 else f"{MAIN}:{rest[0]}", rest))
    for extra in range(count - len(procs)):
        queue = REPLICATED[extra % len(REPLICATED)]
        procs.append(WorkerProc(f"{MAIN}:{queue}-{extra // len(REPLICATED) + 2}", (queue,)))
    return procs


def parse_layout(text: str) -> list[WorkerProc]:
    """Read an explicit layout: processes separated by `;`, queues by `,` (short or full names)."""
    groups = [tuple(dict.fromkeys(_short(q) for q in part.split(",") if q.strip()))
              for part in text.split(";") if part.strip()]
    if not groups:
        raise LayoutError("the worker layout names no process")
    procs: list[WorkerProc] = []
    seen: dict[str, int] = {}
    for group in groups:
        base = f"{MAIN}:{'+'.join(group)}"
        seen[base] = seen.get(base, 0) + 1
        procs.append(WorkerProc(base if seen[base] == 1 else f"{base}-{seen[base]}", group))
    _check(procs)
    return procs


def worker_layout(procs: int, layout: str | None) -> list[WorkerProc]:
    """Return the worker processes the settings ask for: the explicit layout, else the default of `procs`."""
    return parse_layout(layout) if layout else default_layout(procs)


def _short(name: str) -> str:
    short = name.strip().removeprefix("bss-")
    if short not in SHORT:
        raise LayoutError(f"unknown task queue {name.strip()!r}; choose from: {', '.join(SHORT)}")
    return short


def _check(procs: list[WorkerProc]) -> None:
    served = [q for proc in procs for q in proc.queues]
    missing = [q for q in SHORT if q not in served]
    if missing:
        raise LayoutError(f"no worker process serves {', '.join(missing)}: its work would wait forever")
    doubled = [q for q in SINGLE if served.count(q) > 1]
    if doubled:
        raise LayoutError(f"{', '.join(doubled)} must be served by one process only (it starts singletons)")
