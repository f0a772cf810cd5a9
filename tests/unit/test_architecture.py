"""The top level is the architecture (DESIGN.md §2): layers import downward only, every room exists
and says what it owns, and no module grows past the point where it should have been split.

Import direction is checked by import-linter with the contracts in pyproject.toml
(`[tool.importlinter]`), the same contracts `lint-imports` runs.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DESIGN_MD = REPO_ROOT.parent / "shared" / "DESIGN.md"

# The Python packages of DESIGN.md §2, in its order.
PACKAGES = ("apis", "workflows", "activities", "workers", "policies", "domain", "core", "simulators",
            "operations", "agent", "cli", "portals", "migrations")
# Rows of that table that are folders or files but not Python packages.
NON_PACKAGE_ROWS = {"temporal-dev", "scenarios", "bench", "tests", "docker-compose.yml"}

MAX_MODULE_LINES = 600  # DESIGN.md §8: 400 is a smell, 800 is a split; we stop before either hurts.

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _importlinter_config() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def _needs_external_packages(config: dict) -> bool:
    """Forbidden contracts naming third-party modules need `include_external_packages`."""
    roots = set(config.get("root_packages", [])) | {config.get("root_package")} - {None}
    for contract in config.get("contracts", []):
        forbidden = contract.get("forbidden_modules", []) if contract.get("type") == "forbidden" else []
        if any(module.split(".")[0] not in roots for module in forbidden):
            return True
    return False


PYPROJECT_MISSES_EXTERNAL_FLAG = (
    _needs_external_packages(_importlinter_config())
    and not _importlinter_config().get("include_external_packages", False)
)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"unexpected import-linter config value: {value!r}")


def _write_config(config: dict, path: Path) -> Path:
    lines = ["[tool.importlinter]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in config.items() if key != "contracts"]
    for contract in config.get("contracts", []):
        lines += ["", "[[tool.importlinter.contracts]]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in contract.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _lint_imports(*config_file: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS.exists(), f"import-linter is not installed beside {sys.executable} (dev extra)"
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", *map(str, config_file)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_import_contracts_are_kept(tmp_path: Path) -> None:
    # The contracts are pyproject's, verbatim. `include_external_packages` only lets import-linter
    # see third-party modules as graph nodes so forbidden contracts on fastapi & co. can run; it
    # changes no contract. (pyproject.toml should carry it too: see the next test.)
    config = dict(_importlinter_config())
    if _needs_external_packages(config):
        config["include_external_packages"] = True
    result = _lint_imports(_write_config(config, tmp_path / "importlinter.toml"))
    assert result.returncode == 0, f"import-linter contracts broken:\n{result.stdout}\n{result.stderr}"
    assert "0 broken" in result.stdout, result.stdout


@pytest.mark.xfail(PYPROJECT_MISSES_EXTERNAL_FLAG, strict=True,
                   reason="pyproject.toml [tool.importlinter] needs `include_external_packages = true` "
                          "for its forbidden contracts on third-party modules")
def test_lint_imports_runs_with_pyproject_as_is() -> None:
    result = _lint_imports()
    assert result.returncode == 0, f"`lint-imports` fails:\n{result.stdout}\n{result.stderr}"


def test_import_contracts_cover_every_layer() -> None:
    config = _importlinter_config()
    roots = set(config.get("root_packages", []))
    layered = {name.strip() for contract in config.get("contracts", []) if contract.get("type") == "layers"
               for layer in contract.get("layers", []) for name in layer.split("|")}
    missing_roots = sorted(root for root in roots if not (REPO_ROOT / root / "__init__.py").is_file())
    assert not missing_roots, f"import-linter root packages that do not exist: {missing_roots}"
    unlayered = sorted(roots - layered)
    assert not unlayered, f"root packages in no layer of the layers contract: {unlayered}"


@pytest.mark.parametrize("package", PACKAGES)
def test_package_exists_with_a_docstring(package: str) -> None:
    init = REPO_ROOT / package / "__init__.py"
    assert init.is_file(), f"{package}/ (DESIGN.md §2) is missing or has no __init__.py"
    docstring = ast.get_docstring(ast.parse(init.read_text()))
    assert docstring and docstring.strip(), f"{package}/__init__.py needs a docstring saying what the room owns"


def test_packages_match_design_md() -> None:
    if not DESIGN_MD.is_file():
        pytest.skip(f"{DESIGN_MD} not present")
    text = DESIGN_MD.read_text()
    section = text.split("## 2.", 1)[1].split("\n## ", 1)[0]
    rows = {m.group(1).rstrip("/") for m in re.finditer(r"^\|\s*`([^`]+)`\s*\|", section, re.MULTILINE)}
    assert rows, "could not read the layout table of DESIGN.md §2"
    assert rows - NON_PACKAGE_ROWS == set(PACKAGES), (
        f"DESIGN.md §2 packages {sorted(rows - NON_PACKAGE_ROWS)} differ from this test's {sorted(PACKAGES)}")


def test_no_module_exceeds_the_size_limit() -> None:
    too_long = []
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            lines = len(path.read_text().splitlines())
            if lines > MAX_MODULE_LINES:
                too_long.append(f"{path.relative_to(REPO_ROOT)}:{lines}")
    for offence in too_long:
        print(offence)
    assert not too_long, (f"modules over {MAX_MODULE_LINES} lines (split by use case, STYLE.md §1):\n  "
                          + "\n  ".join(too_long))
