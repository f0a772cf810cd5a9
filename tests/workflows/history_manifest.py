"""The history manifest: which recorded histories replay each workflow module, and the source they cover.

`histories/MANIFEST.json` maps every module under `workflows/` that defines a `@workflow.defn` to
the sha256 of its source (with the `workflows/` modules it imports, which shape its commands too)
and to the fixtures that replay it, each with its own sha256. `test_history_manifest.py` fails when
a module changed since the manifest was written, a listed fixture changed or is gone, or a fixture
on disk is not listed. The rule behind it is docs/WORKFLOW_VERSIONING.md.

After a change to a workflow module, record a history of the new shape and update the manifest:

    BSS_RECORD_HISTORIES=1 .venv/bin/pytest -q -p no:cacheprovider tests/workflows/test_replay.py
    .venv/bin/python -m tests.workflows.history_manifest

The update takes a changed module only with a new fixture of one of its workflows, or when told that
the change leaves every command sequence as it was (a comment, a log line, a query):

    .venv/bin/python -m tests.workflows.history_manifest --same-shape workflows/order.py

It never drops or rewrites a listed fixture: each is an execution that may still be running.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
from pathlib import Path

from temporalio.client import WorkflowHistory

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / "workflows"
HISTORIES = Path(__file__).parent / "histories"
MANIFEST = HISTORIES / "MANIFEST.json"
UPDATE = ".venv/bin/python -m tests.workflows.history_manifest"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _defined_workflows(tree: ast.Module) -> list[str]:
    """Names of the classes decorated with `workflow.defn` (its `name=` when given)."""
    names = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for deco in node.decorator_list:
            call = deco if isinstance(deco, ast.Call) else None
            target = call.func if call else deco
            if isinstance(target, ast.Attribute) and target.attr == "defn":
                given = [k.value.value for k in (call.keywords if call else [])
                         if k.arg == "name" and isinstance(k.value, ast.Constant)]
                names.append(given[0] if given else node.name)
    return names


def _workflow_imports(tree: ast.Module) -> set[Path]:
    """The `workflows/` modules a module imports (at any depth of its body)."""
    found = set()
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            path = REPO / (name.replace(".", "/") + ".py")
            if name.startswith("workflows.") and path.exists():
                found.add(path)
    return found


def workflow_modules() -> dict[str, list[str]]:
    """Each module under workflows/ that defines a workflow, with the workflow type names it defines."""
    found = {}
    for path in sorted(WORKFLOWS.glob("*.py")):
        names = _defined_workflows(ast.parse(path.read_text()))
        if names:
            found[_rel(path)] = sorted(names)
    return found


def source_hash(module: str) -> str:
    """sha256 of a module's source and of every workflows/ module it imports, transitively."""
    seen: set[Path] = set()
    todo = [REPO / module]
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo.extend(_workflow_imports(ast.parse(path.read_text())))
    digest = hashlib.sha256()
    for path in sorted(seen):
        digest.update(_rel(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def fixture_files() -> list[str]:
    """Every recorded history on disk, relative to histories/."""
    return sorted(p.relative_to(HISTORIES).as_posix() for p in HISTORIES.rglob("*.json") if p != MANIFEST)


def fixture_type(fixture: str) -> str:
    """The workflow type a recorded history started."""
    first = json.loads((HISTORIES / fixture).read_text())["events"][0]
    return first["workflowExecutionStartedEventAttributes"]["workflowType"]["name"]


def load() -> dict:
    """The committed manifest ({} before the first one)."""
    return json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}


def problems(manifest: dict) -> list[str]:
    """Everything that keeps the manifest from vouching for today's workflow code."""
    found = []
    modules = workflow_modules()
    for module in sorted(set(manifest) - set(modules)):
        found.append(f"{module} is in MANIFEST.json but defines no workflow (any more): run {UPDATE}")
    for module, types in modules.items():
        entry = manifest.get(module)
        if entry is None:
            found.append(f"{module} defines {types} but MANIFEST.json does not list it: record a history of it "
                         f"(BSS_RECORD_HISTORIES=1) and run {UPDATE}")
            continue
        if entry["sha256"] != source_hash(module):
            found.append(f"{module} changed since its histories were recorded: if its command sequence changed, "
                         f"guard the change with a new workflow.patched id, record a history of the new shape "
                         f"(BSS_RECORD_HISTORIES=1) and run {UPDATE}; if it did not, run {UPDATE} --same-shape "
                         f"{module} (docs/WORKFLOW_VERSIONING.md)")
        if not entry["fixtures"]:
            found.append(f"{module}: no recorded history replays it")
        for fixture, sha in entry["fixtures"].items():
            path = HISTORIES / fixture
            if not path.exists():
                found.append(f"{fixture} ({module}) is gone: recorded histories stay (git show HEAD:{_rel(path)})")
            elif _sha(path.read_bytes()) != sha:
                found.append(f"{fixture} ({module}) was rewritten: recorded histories stay; record the new shape "
                             f"under a new name")
    listed = {f for entry in manifest.values() for f in entry["fixtures"]}
    for fixture in sorted(set(fixture_files()) - listed):
        found.append(f"{fixture} is not in MANIFEST.json: run {UPDATE}")
    return found


def update(same_shape: set[str]) -> dict:
    """The manifest for today's code and histories, or SystemExit naming why it cannot be vouched for."""
    old, refusals = load(), []
    new: dict = {}
    on_disk = fixture_files()
    for module, types in workflow_modules().items():
        before = old.get(module, {"sha256": None, "fixtures": {}})
        fixtures = {f: _sha((HISTORIES / f).read_bytes()) for f in on_disk if fixture_type(f) in types}
        for fixture, sha in before["fixtures"].items():
            if fixtures.get(fixture) != sha:
                refusals.append(f"{fixture} was removed or rewritten: recorded histories stay "
                                f"(git show HEAD:{_rel(HISTORIES / fixture)} > {_rel(HISTORIES / fixture)})")
        sha = source_hash(module)
        added = set(fixtures) - set(before["fixtures"])
        if old and sha != before["sha256"] and not added and module not in same_shape:
            refusals.append(f"{module} changed but no new history of {types} was recorded: record one "
                            f"(BSS_RECORD_HISTORIES=1), or pass --same-shape {module} if no command sequence changed")
        if not fixtures:
            refusals.append(f"{module}: no recorded history of {types} in {_rel(HISTORIES)}")
        new[module] = {"workflows": types, "sha256": sha, "fixtures": dict(sorted(fixtures.items()))}
    if refusals:
        raise SystemExit("MANIFEST.json not updated:\n  " + "\n  ".join(refusals))
    return new


def record(history: WorkflowHistory, name: str, folder: Path = HISTORIES) -> Path | None:
    """With BSS_RECORD_HISTORIES=1, write `history` as `<name>.json`, or `<name>-<n>.json` when that
    name is taken (a recorded history is never overwritten); else do nothing."""
    if os.environ.get("BSS_RECORD_HISTORIES") != "1":
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path, n = folder / f"{name}.json", 1
    while path.exists():
        n += 1
        path = folder / f"{name}-{n}.json"
    path.write_text(history.to_json())
    return path


def main() -> None:
    """Write MANIFEST.json for today's workflow code and recorded histories."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--same-shape", nargs="*", default=[], metavar="MODULE",
                        help="changed modules whose command sequences did not change (no new history needed)")
    manifest = update(set(parser.parse_args().same_shape))
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"{_rel(MANIFEST)}: {', '.join(manifest)}")


if __name__ == "__main__":
    main()
