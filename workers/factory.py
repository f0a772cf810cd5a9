"""Build Temporal workers for a set of task queues with the project's sandbox rules."""

from __future__ import annotations

from collections.abc import Iterable

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from core.settings import get_settings
from workers.interceptors import BssErrorInterceptor
from workers.registry import REGISTRY

# Our pure modules (pydantic I/O models, enums) are safe to share with the sandbox; passing them
# through avoids re-importing them for every workflow run (notes/temporal.md §3.5).
PASSTHROUGH = ("domain", "core", "activities", "workflows.queues", "workflows.search_attributes")
# `shared` sandbox: the workflow modules too. They keep no module state, and re-importing them
# (the `@workflow.defn` class building included) was ~30 CPU-ms of every order and every line.
SHARED = (*PASSTHROUGH, "workflows")


def sandbox_runner() -> SandboxedWorkflowRunner:
    """The workflow runner every worker (and replayer) uses, as `workflow_sandbox` says."""
    shared = get_settings().workflow_sandbox == "shared"
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*(SHARED if shared else PASSTHROUGH))
    )


def build_workers(client: Client, queue_names: Iterable[str], **options: object) -> list[Worker]:
    """Return one Worker per queue, hosting what `REGISTRY` lists for it."""
    workers = []
    for name in queue_names:
        spec = REGISTRY[name]
        workers.append(Worker(
            client, task_queue=name, workflows=list(spec.workflows), activities=list(spec.activities),
            workflow_runner=sandbox_runner(), interceptors=[BssErrorInterceptor()],
            **options,  # type: ignore[arg-type]
        ))
    return workers
