"""The REPL cockpit (`bss` alone): talk to the agent, or run operations yourself with slash commands.

A line that starts with `/` is a command (`/help` lists them); anything else is a message to the
agent (operator profile, the focused customer as "the customer"). The agent's tokens stream as they
come, each tool call prints one line while it runs and then the card the CLI prints for that
operation; a destructive call is proposed and waits for `/confirm`. Without a model configured
the REPL still opens: the slash commands and `/run` work, and a message names the settings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from cli.render import agent as cards
from cli.repl import agent_link

if TYPE_CHECKING:
    from agent.events import Proposal
    from operations.registry import Operation

CUSTOMER_ID = re.compile(r"^CUST-\d+$")

HELP: dict[str, tuple[str, str]] = {  # command → (its arguments, what it does)
    "/help": ("", "this list"),
    "/run": ("OP ARGS", "run an operation yourself: /run customer.show CUST-000042 (--flag value or key=value)"),
    "/focus": ("CUST-…", "work on a customer: the agent takes them as 'the customer' (no id: drop the focus)"),
    "/360": ("", "the focused customer's 360 card"),
    "/confirm": ("", "run the call the agent proposed (destructive or taking money; the prompt shows !)"),
    "/cancel": ("", "drop the proposal; nothing is done"),
    "/new": ("", "start a new conversation"),
    "/sessions": ("", "the conversations this REPL and the agent store know"),
    "/resume": ("ID", "continue a conversation"),
    "/tools": ("[customer]", "the operations the agent may call (operator profile, or the customer's)"),
    "/exit": ("", "leave (Ctrl-D too)"),
}


class Repl:
    """One REPL: its conversation, the focused customer, a pending proposal, and the console it prints on."""

    def __init__(self, console: Console, *, actor: str = "operator") -> None:
        self.console = console
        self.actor = actor
        self.session_id: str | None = None
        self.focus: str | None = None
        self.pending: Proposal | None = None
        self.seen_sessions: list[str] = []
        self.agent_on = agent_link.model_configured()
        self._model: Any = None
        self._model_made = False

    # ----- the loop ---------------------------------------------------------------------------

    def prompt_text(self) -> str:
        """`bss> `, or `bss CUST-000042> ` while a customer is focused (a `!` while a proposal waits)."""
        return f"bss{' ' + self.focus if self.focus else ''}{'!' if self.pending else ''}> "

    def handle(self, line: str) -> bool:
        """Act on one input line; False when the REPL should end."""
        line = line.strip()
        if not line:
            return True
        if not line.startswith("/"):
            self.ask(line)
            return True
        name, _, rest = line.partition(" ")
        handler = self.handlers().get(name)
        if handler is None:
            close = [c for c in HELP if c.startswith(name[:3])]
            self.say(f"no command {name}" + (f"; did you mean {', '.join(close)}?" if close else "; /help lists them"),
                     "yellow")
            return True
        return handler(rest.strip()) is not False

    def handlers(self) -> dict[str, Callable[[str], bool | None]]:
        """Each slash command's method."""
        return {"/help": self.help, "/run": self.run_operation, "/focus": self.set_focus, "/360": self.show_360,
                "/confirm": self.confirm, "/cancel": self.cancel, "/new": self.new, "/sessions": self.sessions,
                "/resume": self.resume, "/tools": self.tools, "/exit": lambda _rest: False,
                "/quit": lambda _rest: False}

    def say(self, text: str, style: str = "dim") -> None:
        """A line of the REPL's own (not the agent's)."""
        self.console.print(Text(text, style=style))

    # ----- the agent ----------------------------------------------------------------------------

    def model(self) -> Any:
        """The model the turns use (made once: a scripted model keeps its place across turns)."""
        if not self._model_made:
            self._model = agent_link.make_model()
            self._model_made = True
        return self._model

    def ask(self, message: str, confirm: bool = False) -> None:
        """One agent turn, rendered as it runs."""
        from cli.repl.events import EventPrinter

        if not self.agent_on:
            self.say(agent_link.NO_MODEL + "; /run and the slash commands work meanwhile.", "yellow")
            return
        printer = EventPrinter(self.console, confirm_hint="/confirm runs it · /cancel drops it")
        try:
            result = agent_link.run_turn(message, model=self.model(), session_id=self.session_id,
                                         customer_id=self.focus, actor=self.actor, confirm=confirm, on_event=printer)
        except KeyboardInterrupt:
            printer.done()
            self.say("interrupted", "yellow")
            return
        except Exception as exc:  # noqa: BLE001 - an endpoint down or a bad script must not end the REPL
            printer.done()
            self.console.print(cards.error_card({"code": "agent.failed", "message": f"{type(exc).__name__}: {exc}"}))
            return
        printer.done()
        if result.session_id != self.session_id:
            self.say(f"conversation {result.session_id} · /new starts another, /resume {result.session_id} comes back")
        self.session_id = result.session_id
        if result.session_id not in self.seen_sessions:
            self.seen_sessions.append(result.session_id)
        self.pending = result.proposal

    def confirm(self, _rest: str) -> None:
        """`/confirm`: run the pending proposal."""
        if self.pending is None:
            self.say("nothing to confirm: the agent has proposed nothing in this conversation", "yellow")
            return
        self.ask("", confirm=True)

    def cancel(self, _rest: str) -> None:
        """`/cancel`: drop the pending proposal."""
        if self.pending is None:
            self.say("nothing to cancel", "yellow")
            return
        if self.session_id is not None:
            from agent.runtime import cancel

            cancel(self.session_id)  # the session forgets it too: a later /confirm finds nothing
        self.say(f"dropped the proposal to run {self.pending.operation}; nothing done", "yellow")
        self.pending = None

    def new(self, _rest: str) -> None:
        """`/new`: the next message starts a new conversation."""
        self.session_id, self.pending = None, None
        self.say("new conversation: the next message starts it")

    def sessions(self, _rest: str) -> None:
        """`/sessions`: the conversations stored, newest first (this REPL's at least)."""
        from cli.render.style import table

        stored = self._call("agent.sessions", {"limit": 20}, quiet=True)
        if stored is not None:  # the agent's store, through the API: the card `bss agent sessions` prints
            self.console.print(cards.result_card("agent.sessions", stored, {"limit": 20}))
            if self.session_id:
                self.say(f"this conversation: {self.session_id}")
            return
        stored = [{"id": sid} for sid in reversed(self.seen_sessions)]
        if not stored:
            self.say("no conversations yet")
            return
        columns = [key for key in ("id", "profile", "customer", "actor", "started", "messages", "title")
                   if any(key in row for row in stored)]
        t = table(*columns, title="conversations")
        for row in stored:
            current = row.get("id") == self.session_id
            t.add_row(*(("▸ " if current and key == "id" else "") + escape(str(row.get(key) or "—"))
                        for key in columns))
        self.console.print(t)

    def resume(self, rest: str) -> None:
        """`/resume ID`: continue a stored conversation."""
        if not rest:
            self.say("which conversation? /sessions lists them", "yellow")
            return
        session_id = rest.split()[0]
        from operations.registry import load_all

        if "agent.show" in load_all():
            stored = self._call("agent.show", {"session_id": session_id})
            if stored is None:
                return
            self.console.print(cards.transcript_recap(stored))
            if stored.get("customerId") and stored.get("profile") == "operator":
                self.focus = stored["customerId"]
        self.session_id, self.pending = session_id, None
        self.say(f"resumed {session_id}: the next message continues it")

    def tools(self, rest: str) -> None:
        """`/tools [customer]`: what the agent may call."""
        from cli.render.style import table
        from operations.registry import load_all

        registry = load_all()
        if rest.strip() == "customer":
            names = _customer_operations()
            title = "tools of the customer profile (own account only; no customer id)"
        else:
            names = sorted(registry)
            title = "tools of the operator profile (▲ destructive or takes money: proposed, run after /confirm)"
        t = table("operation", "", "what it does", title=title)
        for name in names:
            op = registry[name]
            t.add_row(name, "[yellow]▲[/]" if op.needs_confirm else "", escape(op.description))
        self.console.print(t)

    # ----- doing things yourself ------------------------------------------------------------------

    def help(self, _rest: str) -> None:
        """`/help`: the commands."""
        from rich.table import Table

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        for name, (args, what) in HELP.items():
            grid.add_row(escape(f"{name} {args}".rstrip()), escape(what))
        grid.add_row("", "")
        grid.add_row("anything else", "a message to the agent" if self.agent_on else f"a message to the agent "
                     f"(off: set {' and '.join(agent_link.MODEL_SETTINGS[:2])})")
        self.console.print(grid)

    def run_operation(self, rest: str) -> None:
        """`/run OP ARGS`: run an operation and print its card."""
        from cli.output import print_json
        from cli.repl import run_op
        from core.api_error import ApiError
        from operations.registry import load_all

        try:
            request = run_op.parse(rest, load_all())
            args = run_op.validate(request)
        except run_op.RunError as exc:
            self.console.print(cards.invalid_card(str(exc)))
            return
        if request.op.destructive and not request.yes and not self._agree(request.op, request.values):
            self.say(request.op.declined, "yellow")
            return
        try:
            data = run_op.execute(request, args)
        except ApiError as exc:
            self.console.print(_refusal(exc))
            return
        if request.as_json:
            print_json(data)
        else:
            self.console.print(cards.result_card(request.op.name, data, args.model_dump()))

    def _agree(self, op: Operation, values: dict[str, Any]) -> bool:
        from prompt_toolkit.shortcuts import confirm

        try:
            question = op.confirm.format(**values) if op.confirm else f"{op.description.rstrip('.')}?"
        except (KeyError, IndexError):
            question = f"{op.description.rstrip('.')}?"
        try:
            return confirm(question)
        except (EOFError, KeyboardInterrupt):
            return False

    def set_focus(self, rest: str) -> None:
        """`/focus CUST-…`: the customer the agent and /360 work on."""
        if not rest:
            self.focus = None
            self.say("no customer focused")
            return
        customer_id = rest.split()[0].upper()
        if not CUSTOMER_ID.match(customer_id):
            self.say(f"{customer_id} is not a customer id (CUST-…)", "yellow")
            return
        customer = self._customer(customer_id)
        if customer is None:
            return
        self.focus = customer_id
        head = customer.get("customer") or {}
        name = head.get("name") or ""
        self.say(f"focus on {customer_id}{' · ' + name if name else ''} · {head.get('status', '?')}: "
                 "/360 shows their card; the agent takes them as 'the customer'", "green")

    def show_360(self, _rest: str) -> None:
        """`/360`: the focused customer's 360 card."""
        if self.focus is None:
            self.say("no customer focused: /focus CUST-… first", "yellow")
            return
        customer = self._customer(self.focus)
        if customer is not None:
            self.console.print(cards.result_card("customer.show", customer, {"customer_id": self.focus}))

    def _customer(self, customer_id: str) -> dict[str, Any] | None:
        return self._call("customer.show", {"customer_id": customer_id})

    def _call(self, operation: str, values: dict[str, Any], quiet: bool = False) -> Any:
        """Run an operation for a slash command; a refusal is shown (unless `quiet`) and gives None."""
        from cli.repl import run_op
        from core.api_error import ApiError
        from operations.registry import load_all

        op = load_all().get(operation)
        if op is None:
            return None
        request = run_op.RunRequest(op, values)
        try:
            return run_op.execute(request, run_op.validate(request))
        except (ApiError, run_op.RunError) as exc:
            if not quiet:
                self.console.print(_refusal(exc))
            return None


def _customer_operations() -> list[str]:
    try:
        from agent.profiles import CUSTOMER_OPERATIONS
    except ImportError:  # pragma: no cover - the agent package is part of every install
        return []
    return list(CUSTOMER_OPERATIONS)


def _refusal(exc: Exception) -> Any:
    from core.api_error import ApiError

    if isinstance(exc, ApiError):
        return cards.error_card(exc.body | {"code": exc.code, "message": exc.message, "context": exc.context},
                                exc.status)
    return cards.invalid_card(str(exc))
