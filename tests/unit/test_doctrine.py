"""House rules the type checker cannot see, enforced over the source with `ast`.

* Business code never reads the wall clock (DESIGN.md §6): `core.clock.now()` in the API and
  activities, `workflow.now()` in workflows. `core/clock.py` is the one place that may.
* Only `core/settings.py` reads the environment (DESIGN.md §8).
* No `HTTPException` below `apis/` (STYLE.md §6): errors are mapped once, at the HTTP edge.

Parsing (not grepping) means comments, docstrings and strings never trip a rule, and import
aliases (`import datetime as _dt`, `from time import time`) do not hide a violation.
Every failure names the offending `file:line`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

ALL_PACKAGES = ("apis", "workflows", "activities", "workers", "policies", "domain", "core", "simulators",
                "cli", "portals", "agent", "migrations")
BUSINESS_PACKAGES = ("apis", "workflows", "activities", "policies", "domain", "simulators", "agent", "portals")
BELOW_APIS = ("activities", "policies", "domain", "workflows", "core")

CLOCK_MODULE = "core/clock.py"
SETTINGS_MODULE = "core/settings.py"

# Wall-clock reads, as (receiver, attribute) at the end of the resolved dotted name.
CLOCK_READS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
               ("time", "time"), ("time", "time_ns")}
ENV_READS = {"os.environ", "os.environb", "os.getenv", "os.getenvb"}


def _sources(packages: Iterable[str], exclude: Iterable[str] = ()) -> Iterator[Path]:
    excluded = {REPO_ROOT / rel for rel in exclude}
    for package in packages:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            if path not in excluded and "__pycache__" not in path.parts:
                yield path


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Map every name bound by an import (anywhere in the module) to the dotted name it stands for."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """Resolve `a.b.c` through the module's imports; None for anything that is not a plain name chain."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, aliases)
        return f"{base}.{node.attr}" if base else None
    return None


def _references(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Yield every name/attribute chain with its resolved dotted name (calls and bare references)."""
    aliases = _aliases(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name | ast.Attribute):
            dotted = _dotted(node, aliases)
            if dotted:
                yield node, dotted


def clock_reads(source: str) -> list[int]:
    """Return the lines that read the wall clock (`datetime.now`, `date.today`, `time.time`, ...)."""
    return sorted(node.lineno for node, dotted in _references(ast.parse(source))
                  if tuple(dotted.split(".")[-2:]) in CLOCK_READS)


def env_reads(source: str) -> list[int]:
    """Return the lines that read the process environment (`os.environ`, `os.getenv`)."""
    return sorted(node.lineno for node, dotted in _references(ast.parse(source)) if dotted in ENV_READS)


def http_exceptions(source: str) -> list[int]:
    """Return the lines that import or raise an `HTTPException` (FastAPI's or Starlette's)."""
    tree = ast.parse(source)
    aliases = _aliases(tree)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if any(alias.name.endswith("HTTPException") for alias in node.names):
                lines.append(node.lineno)
        elif isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if (_dotted(target, aliases) or "").endswith("HTTPException"):
                lines.append(node.lineno)
    return sorted(lines)


def _offences(paths: Iterable[Path], finder) -> list[str]:
    offences = []
    for path in paths:
        for line in finder(path.read_text()):
            offences.append(f"{path.relative_to(REPO_ROOT)}:{line}")
    for offence in offences:
        print(offence)
    return offences


# --- the rules, over the project -----------------------------------------------------------------


def test_business_code_never_reads_the_wall_clock() -> None:
    offences = _offences(_sources(BUSINESS_PACKAGES + ("core",), exclude=[CLOCK_MODULE]), clock_reads)
    assert not offences, (
        "wall-clock reads outside core/clock.py (use core.clock.now(), or workflow.now() in workflows):\n  "
        + "\n  ".join(offences))


def test_only_settings_reads_the_environment() -> None:
    offences = _offences(_sources(ALL_PACKAGES, exclude=[SETTINGS_MODULE]), env_reads)
    assert not offences, (
        "environment reads outside core/settings.py (add a field to core.settings.Settings):\n  "
        + "\n  ".join(offences))


def test_no_http_exception_below_apis() -> None:
    offences = _offences(_sources(BELOW_APIS), http_exceptions)
    assert not offences, (
        "HTTPException below apis/ (raise a core.errors.BssError; apis/errors.py maps it):\n  "
        + "\n  ".join(offences))


def test_exempt_modules_exist() -> None:
    for rel in (CLOCK_MODULE, SETTINGS_MODULE):
        assert (REPO_ROOT / rel).is_file(), f"{rel} is exempt from a doctrine rule but does not exist"


# --- the detectors themselves ---------------------------------------------------------------------


def test_clock_detector_sees_through_aliases_and_ignores_text() -> None:
    source = '''
import datetime as _dt
import time
from datetime import date, datetime
from time import time as wall
from temporalio import workflow
from core import clock

"""datetime.now() in a docstring"""
# time.time() in a comment
a = _dt.datetime.now(_dt.timezone.utc)
b = datetime.utcnow()
c = date.today()
d = time.time()
e = wall()
f = workflow.now()
g = clock.now()
h = "datetime.now()"
i = time.monotonic()
j = Field(default_factory=datetime.now)
'''
    assert clock_reads(source) == [11, 12, 13, 14, 15, 20]


def test_env_detector_sees_through_aliases_and_ignores_text() -> None:
    source = '''
import os
from os import environ, getenv as ge

# os.environ["X"] in a comment
a = os.environ["BSS_X"]
b = os.environ.get("BSS_X")
c = os.getenv("BSS_X")
d = environ.copy()
e = ge("BSS_X")
f = os.getpid()
g = "os.getenv"
'''
    assert env_reads(source) == [6, 7, 8, 9, 10]


def test_http_exception_detector() -> None:
    source = '''
import fastapi
from starlette.exceptions import HTTPException as StarletteHTTPException

"""raise HTTPException(404) in a docstring"""
def f():
    raise fastapi.HTTPException(status_code=404)
def g():
    raise StarletteHTTPException(404)
def h():
    raise ValueError("HTTPException")
'''
    assert http_exceptions(source) == [3, 7, 9]
