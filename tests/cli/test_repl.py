"""The REPL cockpit (`bss` alone) driven on a real terminal: tmux runs it, `send-keys` types, `capture-pane`
reads the screen. The REPL is the `bss` console script in its own process, calling the test API over HTTP.

Without a model: the banner (stack health, the API, which settings turn the agent on), /help, /run of a
read operation printing the CLI's card, /exit — snapshotted. With a scripted model (`BSS_AGENT_SCRIPT`):
a focused customer, a streamed answer, a tool call as one line then its card, a destructive proposal
that runs only on /confirm, /cancel, /sessions.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from rich.text import Text

from tests.support.factories import ready_customer
from tests.support.snapshots import assert_snapshot
from tests.support.stack import PORT_VARS, free_ports

BSS = Path(sys.executable).with_name("bss")
WIDTH, HEIGHT = 100, 50
CUSTOMER = "/tmf-api/customerManagement/v4/customer"
EXITED = "[bss exited "


class Terminal:
    """`bss` in a tmux pane of a private tmux server; what it prints is read back as the screen shows it."""

    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"bss-repl-test-{os.getpid()}-{time.monotonic_ns()}"
        self.env = env

    def tmux(self, *args: str) -> str:
        """Run a tmux command on this terminal's server."""
        done = subprocess.run(["tmux", "-L", self.socket, *args], env=self.env, capture_output=True, text=True,
                              timeout=20, check=False)
        assert done.returncode == 0, f"tmux {' '.join(args)}: {done.stderr}"
        return done.stdout

    def start(self) -> None:
        """Open `bss` (no arguments) on a WIDTH×HEIGHT terminal; the pane stays to show how it exited."""
        self.tmux("new-session", "-d", "-s", "repl", "-x", str(WIDTH), "-y", str(HEIGHT),
                  f"{BSS}; echo '{EXITED}'$?']'; sleep 600")

    def stop(self) -> None:
        """Kill this terminal's tmux server (and the REPL, if still running)."""
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], env=self.env, capture_output=True, check=False)

    def screen(self) -> str:
        """Everything the pane shows, scrolled-off lines included, trailing blanks dropped."""
        text = self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "repl")
        return "\n".join(line.rstrip() for line in text.rstrip().splitlines()) + "\n"

    async def wait_for(self, needle: str, after: int = 0, timeout: float = 20.0) -> str:
        """Wait until `needle` is on the screen past character `after`; return the screen."""
        deadline = time.monotonic() + timeout
        while True:
            screen = await asyncio.to_thread(self.screen)
            if needle in screen[after:]:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never showed; the screen:\n{screen}")
            await asyncio.sleep(0.05)

    async def type(self, line: str, until: str = "bss", timeout: float = 20.0) -> str:
        """Type `line` and Enter; wait for the next prompt (or `until`) below it; return the new screen."""
        before = await asyncio.to_thread(self.screen)
        prompt_line = before.rstrip("\n").rfind("\n") + 1  # the prompt the line is typed at
        await asyncio.to_thread(self.tmux, "send-keys", "-t", "repl", "-l", line)
        await asyncio.to_thread(self.tmux, "send-keys", "-t", "repl", "Enter")
        screen = await self.wait_for(f"> {line}\n", after=prompt_line, timeout=timeout)
        echoed = screen.index(f"> {line}\n", prompt_line)
        # Screens keep no trailing blanks: the prompt `bss> ` reads `bss>` at the end of the screen.
        return await self.wait_for(f"\n{until.rstrip()}", after=echoed, timeout=timeout)


@pytest.fixture
async def terminal(api_url: str, seeded_db, worker) -> AsyncIterator[Terminal]:
    """A terminal for `bss`: this test run's API, a fresh BSS_HOME, the stack's own ports unused (health: down)."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is needed for the REPL tests (.ci/run installs it)")
    home = tempfile.mkdtemp(prefix="bss-repl-home-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BSS_LLM_", "BSS_AGENT_", "TMUX", "PYTEST"))}
    env |= {"BSS_HOME": home, "TERM": "xterm-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            **dict(zip(PORT_VARS, map(str, free_ports(len(PORT_VARS)))))}
    term = Terminal(env)
    yield term
    term.stop()
    shutil.rmtree(home, ignore_errors=True)


def plain(screen: str, api_url: str) -> str:
    """The screen with what changes from run to run spelled the same: the API's port, today's dates."""
    screen = screen.replace(api_url, "http://127.0.0.1:PORT" + " " * (len(api_url) - len("http://127.0.0.1:PORT")))
    return re.sub(r"\b20\d\d-\d\d-\d\d\b", "YYYY-MM-DD", screen)


async def test_without_a_model_the_repl_opens_runs_operations_and_names_the_settings(terminal, api_url):
    terminal.start()
    await terminal.wait_for("\nbss>")
    await terminal.type("/help")
    await terminal.type("/run catalog.show PLAN_M")
    await terminal.type("/run customer.list --status sleeping")  # refused input: the option named as typed
    await terminal.type("/run customer.show CUST-999999999")  # the API's refusal, as the CLI shows it
    await terminal.type("is anything blocked?")  # no model: the settings that turn it on
    screen = await terminal.type("/exit", until=EXITED)
    assert f"{EXITED}0]" in screen
    assert_snapshot("repl_without_model", Text(plain(screen, api_url)), width=WIDTH)
    # The card is the one `bss catalog show PLAN_M` prints, line for line.
    from typer.testing import CliRunner

    from cli.main import app

    card = await asyncio.to_thread(CliRunner().invoke, app, ["catalog", "show", "PLAN_M"], terminal_width=WIDTH)
    for line in card.output.splitlines():
        assert line.rstrip() in screen
    history = Path(terminal.env["BSS_HOME"], "repl_history").read_text()
    assert "/run catalog.show PLAN_M" in history  # kept for the next REPL's ↑ and Ctrl-R


async def test_completion_offers_commands_operations_and_their_options(terminal):
    terminal.start()
    await terminal.wait_for("\nbss>")
    await asyncio.to_thread(terminal.tmux, "send-keys", "-t", "repl", "-l", "/fo")
    await asyncio.to_thread(terminal.tmux, "send-keys", "-t", "repl", "Tab")
    await terminal.wait_for("bss> /focus")
    await asyncio.to_thread(terminal.tmux, "send-keys", "-t", "repl", "C-u")
    await asyncio.to_thread(terminal.tmux, "send-keys", "-t", "repl", "-l", "/run subscription.pla")
    await asyncio.to_thread(terminal.tmux, "send-keys", "-t", "repl", "Tab")
    await terminal.wait_for("bss> /run subscription.plan_change")
    await asyncio.to_thread(terminal.tmux, "send-keys", "-t", "repl", "-l", " SUB-1 --off")
    await asyncio.to_thread(terminal.tmux, "send-keys", "-t", "repl", "Tab")
    await terminal.wait_for("/run subscription.plan_change SUB-1 --offering")
    await asyncio.to_thread(terminal.tmux, "send-keys", "-t", "repl", "C-u")
    screen = await terminal.type("/exit", until=EXITED)
    assert f"{EXITED}0]" in screen


async def test_with_a_scripted_model_tool_calls_stream_as_lines_and_cards_and_a_proposal_waits_for_confirm(
        terminal, seeded_api, tmp_path):
    customer_id = await ready_customer(seeded_api, card=None)
    name = (await seeded_api.get(f"{CUSTOMER}/{customer_id}")).json()["name"]
    close = {"tool": "customer.close", "args": {"customer_id": customer_id, "reason": "moving abroad"}}
    script = tmp_path / "moves.yaml"
    script.write_text(yaml.safe_dump(sort_keys=False, data={"steps": [
        {"tool": "customer.show", "args": {"customer_id": customer_id}},
        {"say": f"{name} is active with no lines, so nothing stands in the way of closing."},
        close,                          # proposed: waits for /confirm
        {"say": "I propose to close the account."},  # after a proposal the model says what it proposed
        close,                          # asked again, then /cancel drops it
        {"say": "Proposed again."},
        {"say": "Closed, as you confirmed."},
    ]}))
    terminal.env["BSS_AGENT_SCRIPT"] = str(script)
    terminal.start()
    banner = await terminal.wait_for("\nbss>")
    assert "agent  on · scripted model (moves.yaml)" in banner
    await terminal.type(f"/focus {customer_id}", until=f"bss {customer_id}> ")
    screen = await terminal.type("can this customer leave?", until=f"bss {customer_id}> ")
    turn = screen[screen.rindex("can this customer leave?"):]
    assert f"▸ customer.show {customer_id} …" in turn
    assert f"customer {customer_id} · {name}" in turn  # the 360 card `bss customer show` prints
    assert f"{name} is active with no lines, so nothing stands in the way of closing." in turn
    assert '"customer"' not in turn  # never raw JSON

    screen = await terminal.type("then close the account", until=f"bss {customer_id}!> ")
    turn = screen[screen.rindex("then close the account"):]
    assert "proposal · needs your confirm" in turn and "/confirm runs it · /cancel drops it" in turn
    assert "I propose to close the account." in turn
    assert (await seeded_api.get(f"{CUSTOMER}/{customer_id}")).json()["status"] == "active"
    await terminal.type("/cancel", until=f"bss {customer_id}> ")
    assert "dropped the proposal to run customer.close; nothing done" in await asyncio.to_thread(terminal.screen)
    await terminal.type("/confirm", until=f"bss {customer_id}> ")
    assert "nothing to confirm" in await asyncio.to_thread(terminal.screen)

    await terminal.type("close it after all", until=f"bss {customer_id}!> ")
    screen = await terminal.type("/confirm", until=f"bss {customer_id}> ")
    turn = screen[screen.rindex("/confirm"):]
    assert f"▸ customer.close customer_id={customer_id} reason=moving abroad …" in turn
    assert "Closed, as you confirmed." in turn
    assert (await seeded_api.get(f"{CUSTOMER}/{customer_id}")).json()["status"] == "closed"

    screen = await terminal.type("/360", until=f"bss {customer_id}> ")
    assert "closed" in screen[screen.rindex("/360"):]
    session_id = re.search(r"conversation (SES-\w+) · /new starts another", screen)[1]
    screen = await terminal.type("/sessions", until=f"bss {customer_id}> ")
    assert session_id in screen[screen.rindex("/sessions"):]
    screen = await terminal.type("/tools customer", until=f"bss {customer_id}> ")
    tools = screen[screen.rindex("/tools customer"):]
    assert "subscription.vas" in tools and "customer.list" not in tools and "subscription.terminate" in tools
    await terminal.type("/new", until=f"bss {customer_id}> ")
    screen = await terminal.type(f"/resume {session_id}", until=f"bss {customer_id}> ")
    assert f"resumed {session_id}: the next message continues it" in screen
    screen = await terminal.type("/exit", until=EXITED)
    assert f"{EXITED}0]" in screen


def test_run_takes_its_arguments_as_the_command_line_does_or_as_key_value_pairs():
    from cli.repl.run_op import RunError, parse, usage, validate
    from operations.registry import load_all

    ops = load_all()
    vas = parse("subscription.vas SUB-000007 --offering VAS_DATA_1GB --json", ops)
    assert vas.op.name == "subscription.vas" and vas.as_json and not vas.yes
    assert vas.values == {"subscription_id": "SUB-000007", "offering": "VAS_DATA_1GB"}
    assert parse("subscription.vas SUB-000007 offering=VAS_DATA_1GB", ops).values == vas.values
    assert parse("subscription__vas SUB-000007 --offering=VAS_DATA_1GB", ops).values == vas.values  # a tool name too
    traces = parse("trace.for_order ORD-000001 --all", ops)
    assert traces.values == {"order_id": "ORD-000001", "all_traces": True}
    listed = validate(parse("customer.list status=active limit=5", ops))
    assert listed.status == "active" and listed.limit == 5
    assert parse("customer.close CUST-000001 --yes", ops).yes
    with pytest.raises(RunError, match="has no option --colour"):
        parse("customer.list --colour red", ops)
    with pytest.raises(RunError, match="--offering needs a value"):
        parse("subscription.vas SUB-000007 --offering", ops)
    with pytest.raises(RunError, match="did you mean customer.show"):
        parse("customer.shwo CUST-1", ops)
    with pytest.raises(RunError, match="--limit: Input should be a valid integer"):
        validate(parse("customer.list --limit many", ops))
    assert usage(ops["subscription.vas"]) == "subscription.vas SUBSCRIPTION_ID --offering OFFERING [--request-id REQUEST_ID]"
