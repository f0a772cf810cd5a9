"""`bss up | down | status | logs`: run the whole stack on this machine (DESIGN.md §3).

Only Typer is imported here; each command imports the supervisor when it runs, and the
supervisor never imports FastAPI, SQLAlchemy or temporalio.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from cli.output import console, err_console, fail, print_json

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status

    from cli.stack.supervisor import StackError
    from core.settings import Settings

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

_EVENT_LINES = {
    "started": "[cyan]started[/]  {name} (pid {detail})",
    "running": "[dim]running[/]  {name} (pid {detail}), left alone",
    "external": "[dim]external[/] {name} at {detail}",
    "healthy": "[green]healthy[/]  {name} after {detail} s",
    "migrated": "[green]migrated[/] database to the head revision",
    "at-head": "[dim]database already at the head revision[/]",
    "stopping": "[cyan]stopping[/] {name} (pid {detail})",
    "killing": "[red]killing[/]  {name} (pid {detail}): did not stop in time",
    "killed": "[red]killed[/]   {name} (pid {detail})",
}


def register(app: typer.Typer) -> None:
    """Add the stack commands to `app`."""
    app.command("up")(up)
    app.command("down")(down)
    app.command("status")(status)
    app.command("restart")(restart)
    app.command("logs")(logs)


def up(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for every component to be healthy.")] = 60.0,
    time_skipping: Annotated[bool, typer.Option(
        "--time-skipping", help="Dev only: scenario time, moved with `bss clock advance` (refused in production).",
    )] = False,
    api_procs: Annotated[int | None, typer.Option(
        "--api-procs", min=1, max=16, help="API server processes sharing the port (default: BSS_API_PROCS, 2).",
    )] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, max=16,
        help="Worker processes; from 2 on, payments gets its own (default: BSS_WORKER_PROCS, 1).",
    )] = None,
    as_json: JsonOpt = False,
) -> None:
    """Start PostgreSQL, Temporal, the API, the workers and both portals; wait until all are healthy.

    Without --api-procs/--workers, a running stack keeps the scale it was started with.
    """
    # Only what spawning needs is imported before it: every millisecond here delays the stack.
    from cli.stack.layout import LayoutError
    from cli.stack.scale import recorded, with_scale
    from cli.stack.supervisor import ModeConflict, StackError
    from cli.stack.supervisor import up as start_stack
    from core.settings import get_settings

    if time_skipping:
        _enable_time_skipping()
    rescale = api_procs is not None or workers is not None
    settings = with_scale(recorded(get_settings()), api_workers=api_procs, worker_procs=workers)
    out = err_console if as_json else console
    with out.status("starting the stack…", spinner="dots") as spinner:
        try:
            result = start_stack(settings, timeout_s=timeout, report=_progress(out, spinner, settings),
                                 keep_scale=not rescale)
        except LayoutError as exc:
            spinner.stop()
            fail(f"worker layout: {exc}", title="bss up")
        except ModeConflict as exc:
            spinner.stop()
            fail(str(exc), title="bss up")
        except StackError as exc:
            spinner.stop()
            _fail_with_log(exc)

    from cli.stack.render import url_rows, urls_table
    from cli.stack.status import collect

    if as_json:
        print_json({"elapsed_s": round(result.elapsed_s, 3), "time_skipping": settings.time_skipping,
                    "started": result.started,
                    "already_running": result.already_running, "migrated": result.migrated,
                    "healthy_after_s": {k: round(v, 3) for k, v in result.healthy_after_s.items()},
                    "components": [row.as_json() for row in collect(settings)],
                    "urls": dict(url_rows(settings))})
        return
    console.print(f"[bold green]stack healthy[/] in {result.elapsed_s:.2f} s"
                  + (" · [yellow]scenario time[/]: move it with `bss clock advance 30d`" if settings.time_skipping
                     else ""))
    console.print(urls_table(settings))


def _enable_time_skipping() -> None:
    """Refuse scenario time in production; otherwise hand the mode to every process `up` spawns."""
    from core.settings import enable_time_skipping, get_settings

    settings = get_settings()
    if settings.env == "production":
        fail("`bss up --time-skipping` is dev-only and refused with BSS_ENV=production: "
             "scenario time moves every clock of the stack", title="bss up")
    if not settings.embedded_temporal:
        fail("`bss up --time-skipping` needs the embedded Temporal dev server, started with time skipping "
             f"enabled; TEMPORAL_ADDRESS points at {settings.temporal_address}", title="bss up")
    enable_time_skipping()


def _progress(out: Console, spinner: Status, settings: Settings) -> Callable[[str, str, str], None]:
    """Return a supervisor reporter that prints each step and keeps the spinner on what is left."""
    from cli.stack.components import component_names

    names = component_names(settings)
    waiting = set(names)

    def report(event: str, name: str, detail: str) -> None:
        if event in ("healthy", "external"):
            waiting.discard(name)
        if event == "migrating":
            spinner.update("checking database migrations…")
            return
        out.print(_EVENT_LINES.get(event, "{name}: {event}").format(name=name, detail=detail, event=event))
        if waiting:
            spinner.update(f"waiting for {', '.join(n for n in names if n in waiting)}…")

    return report


def _fail_with_log(exc: StackError) -> None:
    """Exit with the failing component, the reason and the tail of its log of this run."""
    from rich.markup import escape

    tail = escape("\n".join(exc.log_tail)) or "(empty log)"
    fail(f"[bold]{exc.component}[/]: {exc.message}\n\nlast lines of its log:\n{tail}\n\n"
         "Fix the cause and run `bss up` again (running components are left alone), "
         "or `bss down` to stop them.")


def down(
    timeout: Annotated[float, typer.Option(help="Seconds to wait after SIGTERM before SIGKILL.")] = 10.0,
    as_json: JsonOpt = False,
) -> None:
    """Stop every component `bss up` started (by pid file); safe to run twice."""
    from cli.stack.scale import recorded
    from cli.stack.supervisor import down as stop_stack
    from core.settings import get_settings

    out = err_console if as_json else console

    def report(event: str, name: str, detail: str) -> None:
        if event in ("stopping", "killing"):
            out.print(_EVENT_LINES[event].format(name=name, detail=detail))

    stopped = stop_stack(recorded(get_settings()), timeout_s=timeout, report=report)
    if as_json:
        print_json({"stopped": stopped})
    elif stopped:
        console.print(f"[bold]stopped[/] {', '.join(stopped)}")
    else:
        console.print("nothing to stop")


def restart(
    component: Annotated[str, typer.Argument(help="api, worker, worker:payments, postgres, temporal, … "
                                                  "(as `bss status` names them).")],
    kill: Annotated[bool, typer.Option("--kill", help="SIGKILL it and its children (a crash), "
                                                      "instead of a graceful stop.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the stack to be healthy again.")] = 60.0,
    as_json: JsonOpt = False,
) -> None:
    """Stop one component of the running stack and start it again; wait until the stack is healthy."""
    from cli.stack.supervisor import StackError
    from cli.stack.supervisor import restart as restart_component
    from core.settings import get_settings

    out = err_console if as_json else console

    def report(event: str, name: str, detail: str) -> None:
        if event in _EVENT_LINES and event not in ("running", "external", "healthy", "at-head"):
            out.print(_EVENT_LINES[event].format(name=name, detail=detail))

    try:
        result = restart_component(get_settings(), component, kill=kill, timeout_s=timeout, report=report)
    except StackError as exc:
        _fail_with_log(exc)
        return
    if as_json:
        print_json({"component": component, "started": result.started, "elapsed_s": round(result.elapsed_s, 3)})
    else:
        console.print(f"[bold green]restarted[/] {component} (pid {result.started.get(component, '—')}) "
                      f"in {result.elapsed_s:.2f} s")


def status(as_json: JsonOpt = False) -> None:
    """Show each component's health, pid, URL, memory and uptime; exit 1 unless all are healthy."""
    from cli.stack.render import status_table
    from cli.stack.scale import recorded
    from cli.stack.status import all_healthy, collect
    from core.settings import get_settings

    rows = collect(recorded(get_settings()))
    if as_json:
        print_json([row.as_json() for row in rows])
    else:
        console.print(status_table(rows))
    raise typer.Exit(0 if all_healthy(rows) else 1)


def logs(
    component: Annotated[str | None, typer.Argument(help="postgres, temporal, api, worker (worker:payments, … "
                                                         "with --workers), self-serve or csr; all when omitted.")] = None,
    lines: Annotated[int, typer.Option("-n", "--lines", help="How many lines of each log to show.")] = 40,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines: {component, line} per log line.")] = False,
) -> None:
    """Show the last lines of a component's log (or of every log), optionally following them."""
    import json
    import sys

    from rich.markup import escape

    from cli.stack.components import component_names
    from cli.stack.logs import follow as follow_logs
    from cli.stack.logs import tail_lines
    from cli.stack.scale import recorded
    from core.settings import get_settings

    settings = recorded(get_settings())
    known = component_names(settings)
    if component is not None and component not in known:
        fail(f"unknown component {component!r}; choose one of: {', '.join(known)}")
    names = [component] if component else known
    paths = {name: settings.log_dir / f"{name}.log" for name in names}
    width = max(map(len, names))

    def show(name: str, line: str) -> None:
        if as_json:  # JSON lines, so `--follow --json` streams too
            sys.stdout.write(json.dumps({"component": name, "line": line}) + "\n")
            sys.stdout.flush()
            return
        # soft_wrap: a log line stays one line, whatever the terminal width (grep-able when piped).
        prefix = f"[cyan]{name:<{width}}[/] | " if len(names) > 1 else ""
        console.print(prefix + escape(line), soft_wrap=True)

    for name, path in paths.items():
        for line in tail_lines(path, lines):
            show(name, line)
    if follow:
        try:
            for name, line in follow_logs(paths):
                show(name, line)
        except KeyboardInterrupt:
            pass
