"""`bss scenario validate|list|run|run-all`: YAML end-to-end scenarios against a running stack."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from cli.scenario.loader import LoadedScenario, ScenarioError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
TagOpt = Annotated[str | None, typer.Option("--tag", help="Only scenarios with this tag.")]
Target = Annotated[Path, typer.Argument(help="A scenario file or a folder of them.")]


def register(app: typer.Typer) -> None:
    """Add the `scenario` group to `app`."""
    group = typer.Typer(help="End-to-end scenarios: steps, assertions, polling and time control.",
                        no_args_is_help=True)
    app.add_typer(group, name="scenario")

    @group.command("validate")
    def validate(target: Target = Path("scenarios"), as_json: JsonOpt = False) -> None:
        """Check every scenario file against the schema; list each problem with its file and step."""
        from cli.output import console, print_json

        items, broken = _load(target)
        if as_json:
            print_json({"valid": [str(i.path) for i in items],
                        "invalid": [{"file": str(b.path), "problems": b.problems} for b in broken]})
        else:
            for item in items:
                console.print(f"[green]✔[/] {item.path}  [dim]{item.scenario.name}, {len(item.scenario.steps)} steps[/]")
            _print_broken(broken)
        if broken:
            raise typer.Exit(1)

    @group.command("list")
    def list_scenarios(target: Target = Path("scenarios"), tag: TagOpt = None, as_json: JsonOpt = False) -> None:
        """List the scenarios with their tags, step counts and descriptions."""
        from cli.output import console, print_json
        from cli.render.style import table

        items, broken = _load(target, tag)
        if as_json:
            print_json([{"name": i.scenario.name, "file": str(i.path), "tags": i.scenario.tags,
                         "steps": len(i.scenario.steps), "description": i.scenario.description} for i in items])
        else:
            rows = table("scenario", "tags", "steps", "description", title=f"Scenarios · {target}")
            for i in items:
                about = " ".join(i.scenario.description.split())
                rows.add_row(i.scenario.name, ", ".join(i.scenario.tags), str(len(i.scenario.steps)),
                             about if len(about) <= 60 else about[:59] + "…")
            console.print(rows)
            _print_broken(broken)
        if broken:
            raise typer.Exit(1)

    @group.command("run")
    def run(file: Annotated[Path, typer.Argument(help="The scenario file.")], as_json: JsonOpt = False) -> None:
        """Run one scenario against the running stack; exit 1 when a step fails."""
        from cli.output import fail
        from cli.scenario.loader import ScenarioError, load

        if not file.is_file():
            fail(f"no scenario file at {file}", code=2, title="scenario")
        try:
            item = load(file)
        except ScenarioError as exc:
            _print_broken([exc])
            raise typer.Exit(2) from None
        _execute([item], as_json, fail_fast=False)

    @group.command("run-all")
    def run_all(target: Target = Path("scenarios"), tag: TagOpt = None,
                fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first failing scenario.")]
                = False, as_json: JsonOpt = False) -> None:
        """Run every scenario in a folder (only `--tag` ones when given), one after the other."""
        from cli.output import fail

        items, broken = _load(target, tag)
        if broken:
            _print_broken(broken)
            raise typer.Exit(2)
        if not items:
            fail(f"no scenarios in {target}" + (f" tagged '{tag}'" if tag else ""), code=2, title="scenario")
        _execute(items, as_json, fail_fast)


def _load(target: Path, tag: str | None = None) -> tuple[list[LoadedScenario], list[ScenarioError]]:
    from cli.output import fail
    from cli.scenario.loader import load_all

    try:
        return load_all(target, tag)
    except FileNotFoundError as exc:
        fail(str(exc), code=2, title="scenario")
        raise


def _print_broken(broken: list[ScenarioError]) -> None:
    from cli.output import err_console

    for error in broken:
        err_console.print(f"[red]✘ {error.path}[/]")
        for problem in error.problems:
            err_console.print(f"    {problem}", markup=False)


def _execute(items: list[LoadedScenario], as_json: bool, fail_fast: bool) -> None:
    """Run scenarios with a live progress line, print a card per scenario, exit 1 on any failure."""
    import sys
    import time

    from rich.console import Console
    from rich.live import Live
    from rich.spinner import Spinner

    from cli.output import print_json
    from cli.scenario.report import as_json as report_json
    from cli.scenario.report import scenario_card, summary
    from cli.scenario.runner import ScenarioResult, run_all

    # Steps run the `bss` app in-process, which swaps sys.stdout/stderr while a command runs, so
    # these consoles hold the real streams; the progress line sits on stdout when it is a terminal
    # (cards then print above it) and on stderr otherwise, and never redirects the streams itself.
    out = Console(file=sys.stdout, highlight=False)
    progress_console = out if out.is_terminal else Console(file=sys.stderr, highlight=False)
    spinner = Spinner("dots", text="starting")
    done: list[ScenarioResult] = []

    def progress(scenario: str, step: str) -> None:
        spinner.update(text=f"[{len(done) + 1}/{len(items)}] {scenario} · {step}")

    def on_result(result: ScenarioResult) -> None:
        done.append(result)
        if not as_json:
            out.print(scenario_card(result))

    started = time.perf_counter()
    with Live(spinner, console=progress_console, transient=True, redirect_stdout=False, redirect_stderr=False,
              refresh_per_second=8):
        results = run_all(items, progress, on_result, fail_fast)
    elapsed = round((time.perf_counter() - started) * 1000)
    if as_json:
        print_json(report_json(results, elapsed))
    else:
        if len(results) > 1:
            out.print(summary(results, elapsed))
        failed = sum(not r.passed for r in results)
        # One plain closing line that CI log readers recognise, whatever the terminal.
        out.print(f"scenarios: {len(results) - failed} passed, {failed} failed", markup=False, highlight=False,
                  soft_wrap=True)
    if not all(r.passed for r in results):
        raise typer.Exit(1)
