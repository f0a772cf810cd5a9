"""The hand-written migrations build exactly the schema the SQLAlchemy Tables describe.

Two databases are compared through PostgreSQL's own catalog: one migrated to `heads`, one built
by `metadata.create_all()` from the Table definitions. PostgreSQL normalises both (types, defaults,
CHECK expressions, index definitions), so a plain comparison of the catalog rows is exact and
every difference is a real drift between a migration and its Table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from domain.metadata import SCHEMAS, metadata

COLUMNS = """
    SELECT table_schema || '.' || table_name, column_name,
           udt_name, is_nullable, column_default
      FROM information_schema.columns WHERE table_schema = ANY($1::text[])"""
TABLES = """
    SELECT table_schema || '.' || table_name
      FROM information_schema.tables WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'"""
CONSTRAINTS = """
    SELECT n.nspname || '.' || t.relname, c.conname, c.contype::text, pg_get_constraintdef(c.oid)
      FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE n.nspname = ANY($1::text[])"""
INDEXES = """
    SELECT schemaname || '.' || tablename, indexname, indexdef
      FROM pg_indexes WHERE schemaname = ANY($1::text[])"""



async def _catalog(dsn: str, query: str) -> set[tuple]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = {tuple(row) for row in await conn.fetch(query, list(SCHEMAS))}
    finally:
        await conn.close()
    return rows


@pytest_asyncio.fixture(scope="module")
async def from_tables(pg_server) -> AsyncIterator[str]:
    """A database built straight from the Table definitions (no migrations)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    import domain.tables  # noqa: F401  (every table module registers on the metadata)

    name = await pg_server.create_database(prefix="from_tables")
    engine = create_async_engine(pg_server.sqlalchemy_url(name))
    try:
        async with engine.begin() as conn:
            for schema in SCHEMAS:
                await conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            await conn.run_sync(metadata.create_all)
    finally:
        await engine.dispose()
    yield pg_server.dsn(name)
    await pg_server.drop_database(name)


@pytest_asyncio.fixture(scope="module")
async def migrated(pg_server, migrated_template) -> AsyncIterator[str]:
    """A copy of the session's database migrated to `heads` (the template itself must stay unconnected)."""
    name = await pg_server.create_database(migrated_template, prefix="migrated")
    yield pg_server.dsn(name)
    await pg_server.drop_database(name)


def _diff(what: str, migrated: set[tuple], tables: set[tuple]) -> str:
    lines = [f"{what} differ between the migrations and the Table definitions:"]
    lines += [f"  only migrated:   {row}" for row in sorted(migrated - tables, key=str)]
    lines += [f"  only in Tables:  {row}" for row in sorted(tables - migrated, key=str)]
    return "\n".join(lines)


@pytest.mark.parametrize("what, query", [
    ("tables", TABLES), ("columns (type, nullability, default)", COLUMNS),
    ("constraints (PK, FK, unique, check)", CONSTRAINTS), ("indexes", INDEXES),
])
async def test_migrated_schema_equals_the_table_definitions(migrated, from_tables, what, query):
    got, want = await _catalog(migrated, query), await _catalog(from_tables, query)
    assert got == want, _diff(what, got, want)


async def test_every_metadata_table_is_migrated(migrated):
    import domain.tables  # noqa: F401

    tables = {row[0] for row in await _catalog(migrated, TABLES)}
    missing = sorted(t.fullname for t in metadata.sorted_tables if t.fullname not in tables)
    assert not missing, f"tables without a migration: {missing}"
