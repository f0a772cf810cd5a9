"""Step actions: run the real `bss` app in-process, call the API or any URL, move scenario time."""

from __future__ import annotations

import io
import json
import re
import shlex
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import httpx
import typer.main

from cli.scenario.schema import ApiCall, Ask, HttpCall, Step

if TYPE_CHECKING:
    import click


class StepError(Exception):
    """A step that could not run at all (as opposed to one whose checks did not hold)."""


@dataclass(frozen=True)
class Outcome:
    """What an action returned: the parsed result, its code (exit code or HTTP status) and raw text."""

    document: Any
    code: int
    text: str


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


_NO_SUCH_COMMAND = re.compile(r"No such command '([^']+)'")


@lru_cache(maxsize=1)
def _command() -> click.Command:
    # Building the click tree from the Typer app costs ~0.5 s; a run builds it once.
    from cli.main import app

    return typer.main.get_command(app)


def invoke(args: list[str]) -> tuple[int, str, str]:
    """Run the real `bss` app in this process with `args`; return (exit code, stdout, stderr).

    Standard input is empty (a command that asks for confirmation aborts: pass `--yes`).
    """
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(), out, err
    try:
        _command().main(args=args, prog_name="bss", standalone_mode=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:  # a crash inside a command is the step's error, not the runner's
        raise StepError(f"`bss {shlex.join(args)}` crashed: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


class Actions:
    """Runs step actions; holds the HTTP clients of one run."""

    def __init__(self) -> None:
        from core.settings import get_settings

        self._settings = get_settings()
        self._api = httpx.Client(base_url=self._settings.api_base_url, timeout=30.0)
        self._http = httpx.Client(timeout=30.0, follow_redirects=True)

    def close(self) -> None:
        """Release the connection pools."""
        self._api.close()
        self._http.close()

    def run(self, step: Step) -> Outcome:
        """Perform the step's action once."""
        if step.cli is not None:
            return self.cli(shlex.split(step.cli) if isinstance(step.cli, str) else list(step.cli))
        if step.api is not None:
            return self.api(step.api)
        if step.http is not None:
            return self.http(step.http)
        if step.advance is not None:
            return self.advance(step.advance)
        if step.ask is not None:
            return self.ask(step.ask)
        time.sleep(step.sleep or 0)
        return Outcome(None, 0, "")

    def cli(self, args: list[str]) -> Outcome:
        """Run `bss ARGS --json` in this process and parse its JSON output."""
        if "--json" not in args:
            args = [*args, "--json"]
        code, stdout, stderr = invoke(args)
        text = stdout.strip()
        if missing := _NO_SUCH_COMMAND.search(stderr):
            raise StepError(f"`bss {shlex.join(args)}`: this build of bss has no command '{missing.group(1)}'")
        return Outcome(_parse(text) if text else None, code, text or stderr.strip())

    def api(self, call: ApiCall) -> Outcome:
        """Call the BSS API with the surface's token."""
        headers = {"X-BSS-API-Token": self._settings.api_tokens()[call.surface]}
        return self._send(self._api, call.method, call.path, headers, call.body, None, call.params)

    def http(self, call: HttpCall) -> Outcome:
        """Send a request to any URL."""
        return self._send(self._http, call.method, call.url, call.headers or {}, call.body, call.form, None)

    def advance(self, duration: str) -> Outcome:
        """Move scenario time with `bss clock advance` (the stack must run with --time-skipping)."""
        from cli.main import app

        if not any(g.name == "clock" for g in app.registered_groups):
            raise StepError("time control needs `bss clock advance`, which this build does not have; "
                            "scenarios that advance time cannot run here")
        outcome = self.cli(["clock", "advance", duration])
        if outcome.code != 0:
            detail = outcome.document if isinstance(outcome.document, str) else json.dumps(outcome.document)
            raise StepError(f"`bss clock advance {duration}` failed (exit {outcome.code}): {detail}")
        return outcome

    def ask(self, ask: Ask) -> Outcome:
        """Run one agent turn (and its confirm) with the script as the model, against the real API."""
        from dataclasses import asdict

        from agent.runtime import run_turn
        from agent.scripted import ScriptedModel

        model = ScriptedModel(ask.script)
        kwargs = {"profile": ask.profile, "customer_id": ask.customer, "actor": ask.actor, "model": model}
        try:
            if ask.session and ask.confirm:
                result = run_turn(ask.message, session_id=ask.session, confirm=True, **kwargs)
            else:
                result = run_turn(ask.message, session_id=ask.session, **kwargs)
            proposed = result.proposal.operation if result.proposal else None
            calls = list(result.tool_calls)
            if ask.confirm and not ask.session and result.proposal is not None:
                result = run_turn("", session_id=result.session_id, confirm=True, **kwargs)
                calls += result.tool_calls
        except Exception as exc:  # the agent failing to run is the step's error, not a failed check
            raise StepError(f"the agent turn crashed: {type(exc).__name__}: {exc}") from exc
        document = {**asdict(result), "tools": [c.operation for c in calls], "proposed": proposed,
                    "tool_calls": [asdict(c) for c in calls]}
        return Outcome(document, 0, result.answer)

    @staticmethod
    def _send(client: httpx.Client, method: str, target: str, headers: dict[str, str], body: Any,
              form: dict[str, Any] | None, params: dict[str, Any] | None) -> Outcome:
        try:
            response = client.request(method, target, headers=headers, params=params,
                                      json=body if form is None and body is not None else None, data=form)
        except httpx.HTTPError as exc:
            raise StepError(f"{method} {target}: {type(exc).__name__}: {exc}") from None
        text = response.text
        is_json = "json" in response.headers.get("content-type", "")
        return Outcome(_parse(text) if is_json and text else text, response.status_code, text)
