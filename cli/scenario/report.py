"""The run report: one card per scenario (steps, timings, pass/fail, the failing check), then a summary."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cli.scenario.runner import ScenarioResult, StepResult
from cli.scenario.variables import MISSING

MARKS = {"passed": "[green]✔[/]", "failed": "[red]✘[/]", "error": "[red]![/]", "skipped": "[dim]·[/]"}


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms} ms"


def _value(value: Any, limit: int = 600) -> str:
    text = "(no value)" if value is MISSING else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scenario_card(result: ScenarioResult) -> RenderableType:
    """One scenario: a row per step with its mark, time and attempts; the failure spelled out below."""
    from cli.render.style import card

    steps = Table(box=None, show_header=True, header_style="dim", padding=(0, 1))
    steps.add_column("#", justify="right", style="dim")
    steps.add_column("", width=1)
    steps.add_column("step", overflow="fold")
    steps.add_column("kind", style="dim")
    steps.add_column("time", justify="right")
    steps.add_column("tries", justify="right", style="dim")
    for n, step in enumerate(result.steps, start=1):
        steps.add_row(str(n), MARKS[step.status], step.title if step.status != "skipped" else f"[dim]{step.title}[/]",
                      step.kind, "" if step.status == "skipped" else _seconds(step.elapsed_ms),
                      str(step.attempts) if step.attempts > 1 else "")
    parts: list[RenderableType] = [steps]
    broken = next((s for s in result.steps if s.status in ("failed", "error")), None)
    if broken:
        parts += [Text(""), _why(broken)]
    verdict = "passed" if result.passed else "FAILED"
    title = f"{result.name} · {verdict} · {_seconds(result.elapsed_ms)}"
    return card(title, Group(*parts))


def _why(step: StepResult) -> RenderableType:
    detail = Table.grid(padding=(0, 2))
    detail.add_column(style="bold red")
    detail.add_column(overflow="fold")
    detail.add_row("failed step", step.title)
    if step.failure:
        detail.add_row("check", step.failure.check)
        detail.add_row("expected", _value(step.failure.expected))
        detail.add_row("actual", _value(step.failure.actual))
        detail.add_row("why", step.failure.message)
        if step.attempts > 1:
            detail.add_row("polled", f"{step.attempts} attempts over {_seconds(step.elapsed_ms)}")
    if step.error:
        detail.add_row("error", step.error)
    if step.output and step.failure and step.failure.check not in ("exit_code", "status"):
        detail.add_row("result", Text(_compact(step.output), style="dim"))
    return detail


def _compact(output: str, limit: int = 400) -> str:
    """The step's output on one line (JSON re-serialised without indentation), cut to `limit`."""
    try:
        text = json.dumps(json.loads(output), default=str, ensure_ascii=False)
    except ValueError:
        text = " ".join(output.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary(results: list[ScenarioResult], elapsed_ms: int) -> RenderableType:
    """The run in one table: a row per scenario, then totals."""
    from cli.render.style import card

    rows = Table(box=None, header_style="dim", padding=(0, 1))
    for name, justify in (("", "left"), ("scenario", "left"), ("steps", "right"), ("time", "right"),
                          ("file", "left")):
        rows.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in results:
        done = sum(s.status == "passed" for s in r.steps)
        rows.add_row(MARKS["passed" if r.passed else "failed"], r.name, f"{done}/{len(r.steps)}",
                     _seconds(r.elapsed_ms), f"[dim]{r.path}[/]")
    failed = [r for r in results if not r.passed]
    line = (f"[green]{len(results)} passed[/]" if not failed
            else f"[red]{len(failed)} failed[/], {len(results) - len(failed)} passed")
    return card("scenario run", Group(rows, Text(""), Text.from_markup(f"{line} · {_seconds(elapsed_ms)} wall time")))


def as_json(results: list[ScenarioResult], elapsed_ms: int) -> dict[str, Any]:
    """The run as JSON (`--json`)."""
    return {"passed": all(r.passed for r in results), "scenarios": len(results),
            "failed": sum(not r.passed for r in results), "elapsedMs": elapsed_ms,
            "results": [r.as_dict() for r in results]}
