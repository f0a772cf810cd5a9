"""The workflows every stack runs exactly once, started by the worker that hosts them.

Started with a fixed id and `USE_EXISTING`: a worker restart, a second worker or a second call
joins the running one instead of making another. One that ended (terminated by hand, failed) is
started afresh by the next worker start.
"""

from __future__ import annotations

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from core import clock
from core.settings import Settings, get_settings
from core.temporal import scenario_skipper
from domain.scenario_time import ScenarioClock
from domain.ticket_sla_flow import TicketSlaStart
from workflows import queues
from workflows.ticket_sla import TICKET_SLA_WORKFLOW_ID, TicketSlaWorkflow

# Their queue: a worker that does not serve it starts nothing.
QUEUE = queues.SYSTEM
# Kept by `bss db reset --operational`: they hold no rows, and the reset must not stop them.
IDS = (TICKET_SLA_WORKFLOW_ID,)


async def start_singletons(client: Client, settings: Settings | None = None) -> list[WorkflowHandle]:
    """Start each singleton workflow unless it already runs; return their handles (the running run's when joined)."""
    settings = settings or get_settings()
    scenario = None
    if settings.time_skipping:
        # As the API starts its workflows on such a stack (apis/temporal_gateway.py): no auto-skip,
        # `bss clock advance` moves the loop, and it keeps the offset in force now (DESIGN.md §6;
        # the worker follows the stack clock before it gets here).
        client = scenario_skipper(client).client
        scenario = ScenarioClock(offset=clock.offset())
    sla = await client.start_workflow(
        TicketSlaWorkflow.run, TicketSlaStart(scenario_clock=scenario), id=TICKET_SLA_WORKFLOW_ID,
        task_queue=QUEUE, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    return [sla]
