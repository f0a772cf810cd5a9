"""`bss db reset --operational`: a clean slate for scenarios (dev and test stacks only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from temporalio.client import Client

    from activities.reset import ResetReport


def register(app: typer.Typer) -> None:
    """Add the `db` group with `reset` to `app`."""
    group = typer.Typer(help="Database maintenance (dev and test stacks).", no_args_is_help=True)
    app.add_typer(group, name="db")

    @group.command("reset")
    def reset(operational: Annotated[bool, typer.Option("--operational", help="Delete operational data and "
                                                        "restore the seeded reference data.")] = False,
              yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
              as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False) -> None:
        """Terminate running workflows (not the SLA sweep), delete customers, orders, lines, payments, re-seed."""
        import asyncio
        import time

        from sqlalchemy.exc import DBAPIError

        from cli.output import console, fail, print_json
        from core.settings import get_settings

        if not operational:
            fail("say what to reset: `bss db reset --operational` (the only kind there is)", code=2, title="db reset")
        if get_settings().env == "production":
            fail("a reset deletes every customer and line; it is refused when BSS_ENV=production", code=2,
                 title="db reset")
        if not yes:
            typer.confirm("Delete every customer, order, line and payment?", abort=True)
        started = time.perf_counter()
        try:
            terminated, report = asyncio.run(_reset(get_settings().env))
        except (DBAPIError, OSError, RuntimeError) as exc:
            fail(f"reset failed: {exc}\nis the stack up? try `bss up`", title="db reset")
            return
        result = {**report.as_dict(), "workflowsTerminated": terminated,
                  "elapsedMs": round((time.perf_counter() - started) * 1000)}
        if as_json:
            print_json(result)
        else:
            console.print(f"[green]operational data reset[/]: {terminated} workflows terminated, "
                          f"{result['rowsDeleted']:,} rows deleted, {result['referenceRows']:,} reference rows "
                          f"restored · {result['elapsedMs']} ms")


async def _reset(env: str) -> tuple[int, ResetReport]:
    from activities.reset import reset_operational_data
    from core.db import get_engine
    from core.temporal import connect

    # Workflows first: a line's workflow must not renew, charge or provision against rows
    # that are about to disappear (or, worse, against the next scenario's rows).
    terminated = await terminate_running_workflows(await connect())
    try:
        return terminated, await reset_operational_data(env)
    finally:
        await get_engine().dispose()  # the pool belongs to this command's event loop


async def terminate_running_workflows(client: Client) -> int:
    """Terminate every running workflow of the namespace but the stack's singletons, including any started meanwhile."""
    import asyncio

    from temporalio.service import RPCError

    from workers.singletons import IDS as SINGLETONS

    # The singletons (the ticket SLA sweep) are left running rather than restarted: they hold no rows
    # and read the tables afresh each turn, and only a worker start knows the stack's mode to restart them.
    query = " AND ".join(["ExecutionStatus = 'Running'", *(f"WorkflowId != '{wid}'" for wid in SINGLETONS)])
    done: set[str] = set()
    for _ in range(50):
        # The visibility store lists a terminated run as running for a moment; those are known
        # by run id and skipped, so the loop ends as soon as nothing new shows up.
        running = [wf async for wf in client.list_workflows(query) if wf.run_id not in done]
        if not running:
            return len(done)
        for wf in running:
            try:
                await client.get_workflow_handle(wf.id, run_id=wf.run_id).terminate("operational data reset")
            except RPCError:  # closed between the list and the terminate
                pass
            done.add(wf.run_id)
        await asyncio.sleep(0.05)
    raise RuntimeError("workflows kept starting while the running ones were terminated")
