"""Reset a dev/test database to its seeded state (`bss db reset --operational`): the scenario runner's setup.

Operational data (customers, orders, lines, payments, usage, tickets, tasks…) is deleted; the
reference data `bss seed` loads (catalog, number and eSIM pools, agents, SLAs, fault rules) is
put back exactly as seeded, so a scenario never sees another's reserved number, enabled fault
or re-priced plan. The `audit` schema (event log, spans, the scenario clock offset) is kept, and
id sequences are not restarted: workflow ids are business keys and Temporal still holds the
histories of the previous ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, text

from activities.seed import seed_in
from activities.uow import unit_of_work
from domain.metadata import metadata

KEPT_SCHEMAS = frozenset({"audit"})


class ResetRefused(Exception):
    """The reset is not allowed in this environment."""


@dataclass(frozen=True)
class ResetReport:
    """What a reset emptied and put back."""

    tables_emptied: int
    rows_deleted: int
    reference_rows: int

    def as_dict(self) -> dict[str, int]:
        """Return the report as plain JSON-ready data."""
        return {"tablesEmptied": self.tables_emptied, "rowsDeleted": self.rows_deleted,
                "referenceRows": self.reference_rows}


def resettable_tables() -> list[Table]:
    """Every domain table outside the kept schemas (operational and reference alike)."""
    import domain.tables  # noqa: F401 - registers every domain module's tables

    return [t for t in metadata.sorted_tables if t.schema not in KEPT_SCHEMAS]


async def reset_operational_data(env: str) -> ResetReport:
    """Delete operational data and restore the seeded reference data, in one audited transaction."""
    if env == "production":
        raise ResetRefused("a reset deletes every customer and line; it is refused when BSS_ENV=production")
    tables = resettable_tables()
    names = ", ".join(f'"{t.schema}"."{t.name}"' for t in tables)
    async with unit_of_work() as uow:
        counts = [(await uow.conn.execute(text(f'SELECT count(*) FROM "{t.schema}"."{t.name}"'))).scalar_one()
                  for t in tables]
        # One TRUNCATE of every table at once: foreign keys inside a schema need no ordering and
        # the statement takes its locks together, so a concurrent writer waits rather than interleaves.
        await uow.conn.execute(text(f"TRUNCATE {names}"))
        seeded = await seed_in(uow)
        report = ResetReport(len(tables), sum(counts), sum(d.inserted for d in seeded))
        uow.record("operational_data.reset", "database", "bss", report.as_dict())
    return report
