"""Run scenarios: reset, then each step with its checks, polling and captures; stop at the first failure."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cli.scenario.assertions import Failure, check_all
from cli.scenario.loader import LoadedScenario
from cli.scenario.polling import poll
from cli.scenario.schema import Step
from cli.scenario.steps import Actions, Outcome, StepError
from cli.scenario.variables import PathError, VariableError, capture, substitute

RESET = ["db", "reset", "--operational", "--yes"]


@dataclass
class StepResult:
    """How one step went."""

    title: str
    kind: str
    status: str  # passed | failed | error | skipped
    elapsed_ms: int = 0
    attempts: int = 0
    failure: Failure | None = None
    error: str | None = None
    output: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {"step": self.title, "kind": self.kind, "status": self.status, "elapsedMs": self.elapsed_ms,
                "attempts": self.attempts, "failure": self.failure.as_dict() if self.failure else None,
                "error": self.error}


@dataclass
class ScenarioResult:
    """How one scenario went."""

    name: str
    path: str
    steps: list[StepResult] = field(default_factory=list)
    elapsed_ms: int = 0

    @property
    def passed(self) -> bool:
        """True when every step passed."""
        return all(s.status == "passed" for s in self.steps)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {"scenario": self.name, "file": self.path, "passed": self.passed, "elapsedMs": self.elapsed_ms,
                "steps": [s.as_dict() for s in self.steps]}


Progress = Callable[[str, str], None]


def _quiet(scenario: str, step: str) -> None:
    pass


def run_scenario(item: LoadedScenario, progress: Progress = _quiet, actions: Actions | None = None) -> ScenarioResult:
    """Run one scenario; the result lists every step, the ones after a failure as skipped."""
    scenario = item.scenario
    own = actions is None
    actions = actions or Actions()
    result = ScenarioResult(scenario.name, str(item.path))
    started = time.perf_counter()
    variables: dict[str, Any] = {"run": uuid.uuid4().hex[:8], "scenario": scenario.name, **stack_urls()}
    try:
        if scenario.setup.reset:
            progress(scenario.name, "setup: reset operational data")
            result.steps.append(_run_step(Step(name="setup: reset operational data", cli=RESET), 0, actions,
                                          variables))
        try:
            variables.update(substitute(scenario.variables, variables))
        except VariableError as exc:
            result.steps.append(StepResult("variables", "setup", "error", error=str(exc)))
        for index, step in enumerate(scenario.steps):
            title = step.title(index)
            if not result.passed:
                result.steps.append(StepResult(title, step.kind, "skipped"))
                continue
            progress(scenario.name, f"{index + 1}/{len(scenario.steps)} {title}")
            result.steps.append(_run_step(step, index, actions, variables))
    finally:
        if own:
            actions.close()
    result.elapsed_ms = round((time.perf_counter() - started) * 1000)
    return result


def stack_urls() -> dict[str, str]:
    """Built-in variables for HTTP steps: where this stack's API and portals listen."""
    from core.settings import get_settings

    settings = get_settings()
    return {"api_url": settings.api_base_url.rstrip("/"),
            "self_serve_url": f"http://{settings.host}:{settings.self_serve_port}",
            "csr_url": f"http://{settings.host}:{settings.csr_port}"}


def _run_step(step: Step, index: int, actions: Actions, variables: dict[str, Any]) -> StepResult:
    """Substitute variables, perform the action (polling if asked), check it, capture from it."""
    started = time.perf_counter()
    title = step.title(index)
    outcome: Outcome | None = None

    def attempt() -> tuple[Outcome | None, Failure | None]:
        nonlocal outcome
        try:
            outcome = actions.run(concrete)
        except StepError as exc:
            # Polling also rides out a transient error (the API restarting, a 503); the last one is reported.
            return None, Failure("action", "the action to run", None, str(exc))
        return (outcome, None) if (failure := _verify(concrete, outcome)) is None else (None, failure)

    try:
        concrete = Step.model_validate(substitute(step.model_dump(by_alias=True, exclude_unset=True), variables))
        if concrete.poll:
            polled = poll(attempt, concrete.poll.interval, concrete.poll.timeout)
            attempts, failure = polled.attempts, polled.failure
        else:
            attempts, (_, failure) = 1, attempt()
        elapsed = round((time.perf_counter() - started) * 1000)
        shown = outcome.text if outcome and failure is not None else ""
        if failure is not None:
            status = "error" if failure.check == "action" else "failed"
            return StepResult(title, step.kind, status, elapsed, attempts, failure if status == "failed" else None,
                              failure.message if status == "error" else None, shown)
        assert outcome is not None
        variables.update(capture(concrete.capture, outcome.document))
        return StepResult(title, step.kind, "passed", elapsed, attempts)
    except (VariableError, PathError) as exc:
        return StepResult(title, step.kind, "error", round((time.perf_counter() - started) * 1000), 0,
                          error=str(exc))


def _verify(step: Step, outcome: Outcome) -> Failure | None:
    """The step's expected exit code or status, then its assertions."""
    if step.kind == "cli":
        expected = 0 if step.exit_code is None else step.exit_code
        if outcome.code != expected:
            return Failure("exit_code", expected, outcome.code,
                           f"exit code {outcome.code}, expected {expected}: {_tail(outcome.text)}")
    elif step.kind in ("api", "http"):
        if step.status is not None and outcome.code != step.status:
            return Failure("status", step.status, outcome.code,
                           f"HTTP {outcome.code}, expected {step.status}: {_tail(outcome.text)}")
        if step.status is None and outcome.code >= 400:
            return Failure("status", "< 400", outcome.code, f"HTTP {outcome.code}: {_tail(outcome.text)}")
    return check_all(step.assert_, outcome.document)


def _tail(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else "…" + text[-limit:]


def run_all(items: list[LoadedScenario], progress: Progress = _quiet,
            on_result: Callable[[ScenarioResult], None] | None = None, fail_fast: bool = False) -> list[ScenarioResult]:
    """Run scenarios one after the other (each resets the data it needs), sharing one set of clients."""
    actions = Actions()
    results = []
    try:
        for item in items:
            result = run_scenario(item, progress, actions)
            results.append(result)
            if on_result:
                on_result(result)
            if fail_fast and not result.passed:
                break
    finally:
        actions.close()
    return results
