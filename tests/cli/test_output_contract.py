"""What every `bss` command promises about its output, checked over the whole Typer app.

Every leaf command has `--json`; every command and group has a one-line help; `--help` never
shows a value type beside a flag. Piped through the real `bss` entry point (a subprocess, as a
shell pipe runs it), output carries no ANSI codes, and a stream that cannot encode the box and
bar symbols gets ASCII instead of an encoding error.
"""

from __future__ import annotations

from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from cli.main import app
from tests.support.piped import assert_plain, run_bss

# Commands where `--json` would say nothing a program could use.
NO_JSON: dict[str, str] = {}  # `bss logs` has --json now (JSON lines); a new exception names its reason here


def _walk(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every group and command under `command`, depth first, with its path of names."""
    found = [(path, command)]
    for name, sub in getattr(command, "commands", {}).items():
        found += _walk(sub, (*path, name))
    return found


COMMANDS = _walk(typer.main.get_command(app))
LEAVES = [(path, cmd) for path, cmd in COMMANDS if not hasattr(cmd, "commands")]


def test_the_app_is_walked_whole():
    names = {" ".join(path) for path, _ in LEAVES}
    assert {"order create", "subscription show", "inventory esim show", "catalog admin set-price",
            "workflow list", "migrate", "up"} <= names
    assert len(LEAVES) > 60


@pytest.mark.parametrize("path, command", LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_every_command_has_json_or_a_documented_reason(path: tuple[str, ...], command: Any):
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    name = " ".join(path)
    if name in NO_JSON:
        assert "--json" not in options, f"`bss {name}` has --json now: drop it from NO_JSON"
    else:
        assert "--json" in options, f"`bss {name}` has no --json"


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(p) or "bss" for p, _ in COMMANDS])
def test_every_command_and_group_has_a_one_line_help(path: tuple[str, ...], command: Any):
    first = (command.help or "").strip().splitlines()
    assert first, f"`bss {' '.join(path)}` has no help"
    assert first[0].endswith((".", ")")) and len(first[0]) <= 120, first[0]


def test_help_never_shows_a_type_beside_a_flag():
    runner = CliRunner()
    for path, _ in COMMANDS:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
        assert result.exit_code == 0, (path, result.output)
        assert "<bool>" not in result.output, f"`bss {' '.join(path)} --help` shows <bool>"
    order_help = runner.invoke(app, ["order", "create", "--help"], env={"COLUMNS": "100"}).output
    assert "<str>" in order_help and "--wait " in order_help  # value options keep their type; flags have none


async def test_piped_help_has_no_ansi_and_whole_boxes():
    for env in ({}, {"NO_COLOR": "1"}):
        result = await run_bss("subscription", "--help", **env)
        out = assert_plain(result)
        assert result.returncode == 0 and "╭─ Commands" in out and "show" in out


async def test_piped_help_on_an_ascii_stream_draws_ascii_boxes():
    result = await run_bss("order", "create", "--help", PYTHONIOENCODING="ascii")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.isascii() and "+- Options" in result.stdout.decode()
    assert "(CUST-...)" in result.stdout.decode()  # the ellipsis spelled out, not a `?`


async def test_a_refusal_on_an_ascii_stream_is_still_a_readable_panel(api):
    result = await run_bss("customer", "show", "CUST-404404", PYTHONIOENCODING="ascii")
    assert_plain(result)
    assert result.returncode == 2 and result.stderr.isascii()
    assert "customer.not_found" in result.stderr.decode() and "+-" in result.stderr.decode()
