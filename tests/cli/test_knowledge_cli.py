"""`bss knowledge search` against the real API, and the handbook's honesty: every `bss …` command it
writes (in code blocks and inline code) is a real command taking the options written with it."""

from __future__ import annotations

import json
import re
import shlex

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from activities.knowledge import HANDBOOK_PATH
from cli.main import app


async def test_search_prints_a_card_per_runbook_with_its_anchor(bss, seeded_db):
    result = await bss("knowledge", "search", "how do I rotate a token")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.lstrip().startswith("╭") and "1. Rotating API tokens" in out.splitlines()[0]
    assert "#rotating-api-tokens" in out and "docs/HANDBOOK.md#rotating-api-tokens" in out
    assert "X-BSS-API-Token" in out and "**" not in out  # the snippet's marks became bold, not asterisks
    two = await bss("knowledge", "search", "stuck order", "--limit", "2")
    assert two.output.index("1. Stuck orders") < two.output.index("2. ") and "3. " not in two.output


async def test_search_json_and_full(bss, seeded_db):
    result = await bss("knowledge", "search", "stuck order", "--json", "--full", "--limit", "1")
    assert result.exit_code == 0, result.output
    (hit,) = json.loads(result.output)
    assert hit["anchor"] == "stuck-orders" and hit["citation"] == "docs/HANDBOOK.md#stuck-orders"
    assert "bss prov resolve" in hit["body"]
    shown = await bss("knowledge", "search", "stuck order", "--full", "--limit", "1")
    assert "bss prov retry PT-000008" in shown.output  # the runbook itself, rendered


async def test_no_match_and_blank_query(bss, seeded_db):
    none = await bss("knowledge", "search", "xylophone zeppelin")
    assert none.exit_code == 0 and "no section of the handbook matches" in none.output
    blank = await bss("knowledge", "search", "   ")
    assert blank.exit_code == 2 and "give the words to search the handbook for" in blank.output


# --- every command the handbook names exists ------------------------------------------------------

FENCE = re.compile(r"^\s*```")
INLINE = re.compile(r"`(bss [^`]+)`")


def handbook_commands() -> list[str]:
    """Every `bss …` command line of the handbook: code-block lines and inline code spans."""
    found, in_code = [], False
    for line in HANDBOOK_PATH.read_text().splitlines():
        if FENCE.match(line):
            in_code = not in_code
        elif in_code and line.strip().startswith("bss "):
            found.append(line.strip())
        elif not in_code:
            found += INLINE.findall(line)
    return found


COMMANDS = handbook_commands()
ROOT = get_command(app)


def resolve(line: str) -> tuple[list[str], object, list[str]]:
    """The command path a handbook line names, its command object, and the options it passes."""
    words = shlex.split(line.split(" # ")[0])[1:]
    path, command = [], ROOT
    while words and hasattr(command, "commands") and words[0] in command.commands:
        path.append(words.pop(0))
        command = command.commands[path[-1]]
    return path, command, [w.split("=")[0] for w in words if w.startswith("-")]


def test_the_handbook_names_many_commands():
    assert len(COMMANDS) > 50
    assert {"bss workflow stuck", "bss prov resolve", "bss prov retry", "bss inventory msisdn add-range",
            "bss inventory esim load", "bss clock advance", "bss payment refund", "bss subscription renew"
            } <= {" ".join(["bss", *resolve(c)[0]]) for c in COMMANDS}


@pytest.mark.parametrize("line", COMMANDS)
def test_each_handbook_command_is_a_real_command_with_real_options(line: str):
    path, command, options = resolve(line)
    assert path and not hasattr(command, "commands"), f"{line!r} does not name a command (stopped at {path})"
    known = {opt for param in command.params for opt in (*getattr(param, "opts", ()),
                                                         *getattr(param, "secondary_opts", ()))}
    unknown = [o for o in options if o not in known | {"--help"}]
    assert not unknown, f"{line!r}: bss {' '.join(path)} has no option {unknown}"
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output


def test_the_check_catches_an_invented_command_or_option():
    path, command, _ = resolve("bss prov unstick PT-000008")
    assert path == ["prov"] and hasattr(command, "commands")  # stops at the group: not a command
    path, command, options = resolve('bss prov resolve PT-000008 --force --note="done"')
    known = {opt for param in command.params for opt in getattr(param, "opts", ())}
    assert path == ["prov", "resolve"] and options == ["--force", "--note"] and "--force" not in known
