"""Find and load scenario files; every error names the file and the step it is in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from cli.scenario.schema import Scenario
from cli.scenario.variables import VariableError, substitute


class ScenarioError(Exception):
    """A scenario file that cannot be read or does not match the schema."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and the file it came from."""

    path: Path
    scenario: Scenario
    raw: dict[str, Any]


def find_files(target: Path) -> list[Path]:
    """The scenario files at `target`: the file itself, or every `*.yaml`/`*.yml` under a folder, sorted.

    Files and folders whose name starts with `_` hold fragments for `include`, not scenarios.
    """
    if target.is_file():
        return [target]
    if not target.is_dir():
        raise FileNotFoundError(f"no scenario file or folder at {target}")
    return sorted(p for p in target.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
                  and not any(part.startswith("_") for part in p.relative_to(target).parts))


def load(path: Path) -> LoadedScenario:
    """Read and validate one scenario file, or raise `ScenarioError` listing every problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(path, [f"cannot read YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise ScenarioError(path, ["a scenario is a mapping with name, steps and optionally tags, variables, setup"])
    raw = {**raw, "steps": _expand(path, raw.get("steps"))}
    try:
        return LoadedScenario(path, Scenario.model_validate(raw), raw)
    except ValidationError as exc:
        raise ScenarioError(path, [_describe(error, raw) for error in exc.errors()]) from None


def _expand(path: Path, steps: Any, depth: int = 0) -> Any:
    """Replace every `include: FILE` step (with optional `with:` parameters) by the fragment's steps.

    A fragment is a YAML mapping `{params: {name: default…}, steps: [...]}` beside the scenario
    (path relative to the including file); its `{{ param }}` placeholders are filled from `with`
    or the defaults at load time, every other placeholder is left for the run.
    """
    if not isinstance(steps, list):
        return steps
    expanded: list[Any] = []
    for index, step in enumerate(steps):
        if not (isinstance(step, dict) and "include" in step):
            expanded.append(step)
            continue
        where = f"step {index + 1} (include {step['include']})"
        unknown = set(step) - {"include", "with"}
        if unknown or depth > 4:
            problem = f"an include step takes only include and with (found {', '.join(sorted(unknown))})" \
                if unknown else "includes nest too deep"
            raise ScenarioError(path, [f"{where}: {problem}"])
        fragment_path = path.parent / str(step["include"])
        try:
            fragment = yaml.safe_load(fragment_path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ScenarioError(path, [f"{where}: cannot read the fragment: {exc}"]) from None
        if not isinstance(fragment, dict) or not isinstance(fragment.get("steps"), list):
            raise ScenarioError(path, [f"{where}: a fragment is a mapping with `steps` (and optional `params`)"])
        params = {**(fragment.get("params") or {}), **(step.get("with") or {})}
        missing = [name for name, value in params.items() if value is None]
        if missing:
            raise ScenarioError(path, [f"{where}: give a value for {', '.join(missing)} in `with`"])
        try:
            steps_in = substitute(fragment["steps"], params, partial=True)
        except VariableError as exc:
            raise ScenarioError(path, [f"{where}: {exc}"]) from None
        expanded.extend(_expand(fragment_path, steps_in, depth + 1))
    return expanded


def load_all(target: Path, tag: str | None = None) -> tuple[list[LoadedScenario], list[ScenarioError]]:
    """Load every scenario at `target` (only those tagged `tag` when given), collecting the broken ones."""
    loaded, broken = [], []
    for path in find_files(target):
        try:
            item = load(path)
        except ScenarioError as exc:
            broken.append(exc)
            continue
        if tag is None or tag in item.scenario.tags:
            loaded.append(item)
    return loaded, broken


def _describe(error: dict[str, Any], raw: dict[str, Any]) -> str:
    """Render one pydantic error as `step 3 (name): assert[0]: message`."""
    loc = list(error["loc"])
    where = []
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        index = loc[1]
        steps = raw.get("steps") or []
        name = steps[index].get("name") if index < len(steps) and isinstance(steps[index], dict) else None
        where.append(f"step {index + 1}" + (f" ({name})" if name else ""))
        loc = loc[2:]
    # Pydantic adds the tried union branch or validator name to the location; readers want the field path.
    fields = [str(p) for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    field = ".".join(fields).replace(".[", "[")
    if field:
        where.append(field)
    message = error["msg"].removeprefix("Value error, ")
    return ": ".join([*where, message])
