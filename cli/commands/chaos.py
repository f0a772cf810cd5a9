"""`bss chaos`: a mixed load on the running dev stack while its processes die; then the gates (issue #18).

Only Typer is imported here; the run (httpx, asyncpg, temporalio) is imported when the command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli.output import console, err_console, fail, print_json

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from cli.chaos.run import Chaos, Options, RoundReport, RunReport
    from core.settings import Settings


def register(app: typer.Typer) -> None:
    """Add `chaos` to `app`."""
    app.command("chaos")(chaos)


def chaos(
    rounds: Annotated[int, typer.Option(min=1, max=1000, help="How many rounds.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the faults' moments, their order and the load.")] = 1,
    duration: Annotated[float, typer.Option(min=1, max=3600, help="Seconds of load per round.")] = 20.0,
    orders: Annotated[int, typer.Option(min=0, max=500, help="Orders (new customers) per round.")] = 4,
    streams: Annotated[int, typer.Option(min=0, max=64, help="Concurrent usage and top-up streams.")] = 3,
    faults: Annotated[str, typer.Option(help="Faults of each round, comma-separated: kill-worker, kill-api, "
                                             "restart-postgres, restart-temporal.")] =
        "kill-worker,kill-api,restart-postgres,restart-temporal",
    advance: Annotated[str, typer.Option(help="How far the clock moves after each round on a time-skipping stack "
                                              "(renewals); `0` not at all.")] = "30d",
    settle: Annotated[float, typer.Option(min=1, max=3600, help="Seconds the run's orders and charges get to "
                                                               "become final after each round.")] = 120.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run a seeded mixed load on the `bss up` stack while killing its processes; exit 1 unless every gate is 0."""
    import asyncio

    from cli.chaos.faults import Fault
    from cli.chaos.run import Chaos, Options
    from core.settings import enable_time_skipping, get_settings

    settings = get_settings()
    if settings.env == "production":
        fail("`bss chaos` kills the stack's processes: it is dev-only and refused with BSS_ENV=production",
             title="bss chaos")
    try:
        chosen = tuple(Fault(name.strip()) for name in faults.split(",") if name.strip())
    except ValueError as exc:
        fail(f"{exc}; choose among {', '.join(Fault)}", code=2, title="bss chaos")
    _require_healthy_stack(settings)
    if (settings.run_dir / "time-skipping").exists():
        settings = enable_time_skipping()  # a restarted component must come back in the stack's mode
    options = Options(rounds=rounds, seed=seed, duration_s=duration, orders=orders, streams=streams, faults=chosen,
                      advance=None if advance.strip() in ("", "0") else advance, settle_s=settle)
    out = err_console if as_json else console
    report = asyncio.run(_run(Chaos, settings, options, out))
    if as_json:
        print_json(_as_json(report))
    else:
        console.print(rounds_table(report))
        console.print(gates_table(report))
        verdict = "[bold green]all gates 0[/]" if report.green else "[bold red]gates failed[/]"
        console.print(f"{verdict} · {len(report.rounds)} rounds, "
                      f"{sum(len(r.injected) for r in report.rounds)} faults, "
                      f"{sum(r.tally.orders for r in report.rounds)} orders, {report.elapsed_s:.0f} s "
                      f"(seed {seed})")
    raise typer.Exit(0 if report.green else 1)


def _require_healthy_stack(settings: Settings) -> None:
    from cli.stack.status import all_healthy, collect

    rows = collect(settings)
    if not all_healthy(rows):
        down = ", ".join(row.name for row in rows if row.health != "healthy")
        fail(f"the stack is not healthy ({down}): start it with `bss up` (and `bss seed`) first", title="bss chaos")


async def _run(chaos_class: type[Chaos], settings: Settings, options: Options, out: Console) -> RunReport:
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cli.chaos.faults import FaultError
    from cli.chaos.load import LoadError
    from cli.stack.supervisor import StackError

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=out, transient=True) as progress:
        task = progress.add_task("starting", total=options.rounds)

        def say(text: str) -> None:
            progress.update(task, description=text)

        def on_round(done: RoundReport) -> None:
            progress.advance(task)
            faults = ", ".join(f"{i.fault} {i.recovered_after_s:.1f}s" for i in done.injected) or "none"
            progress.console.print(f"round {done.number}: {done.tally.orders} orders "
                                   f"({done.tally.completed} completed), {done.tally.usage_rated} usage rated, "
                                   f"{done.tally.top_ups} top-ups, {done.renewals} renewals · faults: {faults} "
                                   f"· {done.elapsed_s:.1f} s")

        try:
            return await chaos_class(settings, options, say).run(on_round)
        except LoadError as exc:
            progress.stop()
            fail(f"the stack stopped answering: {exc}", title="bss chaos")
            raise  # unreachable: fail exits
        except (FaultError, StackError) as exc:
            progress.stop()
            tail = "\n".join(getattr(exc, "log_tail", [])[-15:])
            fail(f"a fault could not be injected or recovered from: {exc}\n{escape(tail)}", title="bss chaos")
            raise


def rounds_table(report: RunReport) -> Table:
    """One row per round: the load, the faults and how long recovery took."""
    from cli.render.style import table

    t = table("#", "orders", "usage", "top-ups", "renewals", "retries", "faults (back after)", "s")
    for r in report.rounds:
        tally = r.tally
        t.add_row(str(r.number), f"{tally.completed}/{tally.orders}",
                  f"{tally.usage_rated}+{tally.usage_rejected}✗", str(tally.top_ups), str(r.renewals),
                  str(tally.retries), ", ".join(f"{i.fault.value.split('-')[1]} {i.recovered_after_s:.0f}s"
                                                for i in r.injected),
                  f"{r.elapsed_s:.0f}")
    return t


def gates_table(report: RunReport) -> Table:
    """One row per gate: how many failures, and the first few."""
    from cli.render.style import table

    t = table("gate", "count", "first")
    for gate, found in report.gates.items():
        shown = "; ".join(found[:3]) + (" …" if len(found) > 3 else "")
        t.add_row(gate, f"[{'red' if found else 'green'}]{len(found)}[/]", shown or "")
    t.add_row("histories replayed", str(report.replayed), "")
    return t


def _as_json(report: RunReport) -> dict:
    from dataclasses import asdict

    return {"green": report.green, "seed": report.options.seed, "timeSkipping": report.time_skipping,
            "elapsedS": round(report.elapsed_s, 2), "replayed": report.replayed,
            "gates": {gate: {"count": len(found), "items": found} for gate, found in report.gates.items()},
            "rounds": [{"number": r.number, "elapsedS": round(r.elapsed_s, 2), "renewals": r.renewals,
                        "load": {k: v for k, v in asdict(r.tally).items() if k != "order_ids"},
                        "faults": [{"fault": str(i.fault), "process": i.process, "pid": i.pid,
                                    "atS": round(i.at_s, 2), "recoveredAfterS": round(i.recovered_after_s, 2)}
                                   for i in r.injected]} for r in report.rounds]}
