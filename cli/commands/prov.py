"""`bss prov …`: provisioning tasks (list, show, resolve, retry) and the network simulator's faults."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.output import call_api, emit

TASKS = "/provisioning-api/v1/task"
FAULTS = "/provisioning-api/v1/fault"
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]


def _task_card(data: dict) -> Any:
    from cli.render.provisioning import task_card

    return task_card(data)


def register(app: typer.Typer) -> None:
    """Add the `prov` group to `app`."""
    group = typer.Typer(name="prov", help="Provisioning tasks and network fault injection.",
                        no_args_is_help=True)
    app.add_typer(group)
    fault = typer.Typer(name="fault", help="Inject faults into the network simulator.", no_args_is_help=True)
    group.add_typer(fault)

    @group.command("tasks")
    def tasks(task_state: Annotated[str | None, typer.Option("--state", help="pending | running | completed"
                                                                        " | failed | stuck.")] = None,
              order: Annotated[str | None, typer.Option("--order",
                                                        help="Only this product order's tasks.")] = None,
              task_type: Annotated[str | None, typer.Option("--type", help="Only this task type.")] = None,
              limit: Annotated[int, typer.Option(help="At most this many tasks.")] = 100,
              as_json: JsonOpt = False) -> None:
        """List provisioning tasks (⚠ on stuck and failed ones)."""
        from cli.render.provisioning import tasks_table

        params = {"state": task_state, "orderId": order, "taskType": task_type, "limit": limit}
        emit(call_api(as_json, "GET", TASKS, **params), as_json, tasks_table)

    @group.command("show")
    def show(task_id: Annotated[str, typer.Argument(help="Task id (PT-…).")],
             as_json: JsonOpt = False) -> None:
        """Show one task: attempts, duration, last error, operator note and what to do next."""
        emit(call_api(as_json, "GET", f"{TASKS}/{task_id}"), as_json, _task_card)

    @group.command("resolve")
    def resolve(task_id: Annotated[str, typer.Argument(help="Stuck task id (PT-…).")],
                note: Annotated[str, typer.Option("--note",
                                                  help="What you did on the network element.")] = "",
                as_json: JsonOpt = False) -> None:
        """Complete a stuck task by hand (a note is required); the order then continues."""
        emit(call_api(as_json, "POST", f"{TASKS}/{task_id}/resolve", {"note": note}), as_json, _task_card)

    @group.command("retry")
    def retry(task_id: Annotated[str, typer.Argument(help="Failed or stuck task id (PT-…).")],
              as_json: JsonOpt = False) -> None:
        """Run a failed or stuck task again, within its attempts budget."""
        emit(call_api(as_json, "POST", f"{TASKS}/{task_id}/retry", {}), as_json, _task_card)

    @fault.command("list")
    def fault_list(enabled: Annotated[bool, typer.Option("--enabled",
                                                         help="Only rules switched on.")] = False,
                   task_type: Annotated[str | None, typer.Option("--type",
                                                                 help="Only this task type.")] = None,
                   as_json: JsonOpt = False) -> None:
        """List fault rules (every task type × mode)."""
        from cli.render.provisioning import faults_table

        params = {"enabled": "true" if enabled else None, "taskType": task_type, "limit": 1000}
        emit(call_api(as_json, "GET", FAULTS, **params), as_json, faults_table)

    @fault.command("set")
    def fault_set(task_type: Annotated[str, typer.Argument(help="Task type, e.g. HLR_PROVISION.")],
                  mode: Annotated[str, typer.Argument(help="fail_first_attempt | fail_always | stuck"
                                                           " | slow.")],
                  off: Annotated[bool, typer.Option("--off", help="Switch the rule off.")] = False,
                  probability: Annotated[int | None, typer.Option(
                      "--probability", min=0, max=100,
                      help="Chance it fires, in % (100 when switching on without it).")] = None,
                  slow_ms: Annotated[int | None, typer.Option("--slow-ms", min=1,
                                                              help="Delay a slow rule adds.")] = None,
                  as_json: JsonOpt = False) -> None:
        """Switch a fault rule on (or off with --off)."""
        from cli.render.provisioning import faults_table

        body: dict[str, Any] = {"taskType": task_type.upper(), "mode": mode.lower(), "enabled": not off}
        if probability is not None or not off:  # switching on means "every time" unless told otherwise
            body["probabilityPct"] = 100 if probability is None else probability
        if slow_ms is not None:
            body["slowMs"] = slow_ms
        emit(call_api(as_json, "PUT", FAULTS, body), as_json, lambda rule: faults_table([rule]))
