"""Which workflows and activities each task queue hosts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from activities.diagnostics import record_ping
from workflows import queues
from workflows.diagnostics import PingWorkflow


@dataclass(frozen=True)
class QueueSpec:
    """The workflows and activities served on one task queue."""

    workflows: Sequence[type]
    activities: Sequence[Callable]


REGISTRY: dict[str, QueueSpec] = {
    queues.SYSTEM: QueueSpec(workflows=[PingWorkflow], activities=[record_ping]),
}
