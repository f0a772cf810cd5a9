"""`bss prov …`: provisioning tasks (list, show, resolve, retry) and the network simulator's faults and latencies."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `prov` group (with `fault` and `latency`) to `app`."""
    from cli.operation_command import add_commands, register_group
    from cli.render import provisioning as cards
    from cli.render.style import table
    from operations import provisioning as ops

    def latencies(rows: list[dict]) -> object:
        shown = table("task type", "element", "latency")
        for row in rows:
            shown.add_row(row["taskType"], row["element"], f"{row['latencyMs']:,} ms")
        return shown

    group = register_group(app, "prov", "Provisioning tasks and network fault injection.", [
        ("tasks", ops.tasks, cards.tasks_table),
        ("show", ops.show, cards.task_card),
        ("resolve", ops.resolve, cards.task_card),
        ("retry", ops.retry, cards.task_card),
    ])
    fault = typer.Typer(name="fault", help="Inject faults into the network simulator.", no_args_is_help=True)
    latency = typer.Typer(name="latency", help="The network simulator's latency per task type.",
                          no_args_is_help=True)
    group.add_typer(fault)
    group.add_typer(latency)
    add_commands(fault, "prov fault", [
        ("list", ops.fault_list, cards.faults_table),
        ("set", ops.fault_set, lambda rule: cards.faults_table([rule])),
    ])
    add_commands(latency, "prov latency", [("list", ops.latency_list, latencies), ("set", ops.latency_set, latencies)])
