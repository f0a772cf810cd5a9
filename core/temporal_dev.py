"""Read the dev-server configuration kept in `temporal-dev/` (search attributes, dynamic config)."""

from __future__ import annotations

from pathlib import Path

from core.settings import REPO_ROOT

TEMPORAL_DEV_DIR = REPO_ROOT / "temporal-dev"


def _pairs(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs.append((key.strip(), value.strip()))
    return pairs


def search_attributes() -> dict[str, str]:
    """Return the registered search attributes as {name: type}."""
    return dict(_pairs(TEMPORAL_DEV_DIR / "search-attributes.txt"))


def dynamic_config(time_skipping: bool = False) -> list[str]:
    """Return `--dynamic-config-value K=V` arguments for the dev server."""
    pairs = _pairs(TEMPORAL_DEV_DIR / "dynamic-config.txt")
    if time_skipping:
        pairs += _pairs(TEMPORAL_DEV_DIR / "time-skipping.txt")
    return [f"--dynamic-config-value={k}={v}" for k, v in pairs]


def search_attribute_args() -> list[str]:
    """Return `--search-attribute K=Type` arguments for the dev server."""
    return [f"--search-attribute={k}={v}" for k, v in search_attributes().items()]


def sqlite_pragma_args() -> list[str]:
    """Return `--sqlite-pragma` arguments for the dev server's on-disk store."""
    return [f"--sqlite-pragma={k}={v}" for k, v in _pairs(TEMPORAL_DEV_DIR / "sqlite-pragmas.txt")]
