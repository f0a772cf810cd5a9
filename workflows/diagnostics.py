"""PingWorkflow: the smallest durable flow, proving client → worker → activity → DB wiring."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.diagnostics import record_ping
    from domain.diagnostics import PingInput, PingResult


def ping_workflow_id(ping_id: str) -> str:
    """Workflow id of a ping, from its business key."""
    return f"ping-{ping_id}"


@workflow.defn(name="PingWorkflow")
class PingWorkflow:
    """Run one audited activity and return what it recorded."""

    @workflow.run
    async def run(self, ping: PingInput) -> PingResult:
        return await workflow.execute_activity(
            record_ping, ping, start_to_close_timeout=timedelta(seconds=10)
        )
