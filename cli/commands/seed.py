"""`bss seed`: load the reference data of SPEC §3 into the database (safe to rerun)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli.output import console, fail, print_json

if TYPE_CHECKING:
    from pathlib import Path

    from activities.seed import SeedReport


def register(app: typer.Typer) -> None:
    """Add `bss seed` to `app`."""

    @app.command("seed")
    def seed(as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False) -> None:
        """Load the catalog, number and eSIM pools, agents, SLAs and fault rules; rerunning changes nothing.

        On a dev stack the seeded care staff also get CSR console logins, their passwords written to
        `$BSS_HOME/operators.txt` (readable by you only).
        """
        import asyncio
        import time

        from sqlalchemy.exc import DBAPIError

        started = time.perf_counter()
        try:
            report, operators = asyncio.run(_seed())
        except (DBAPIError, OSError) as exc:
            cause = getattr(exc, "orig", None) or exc
            hint = "run `bss migrate` first" if "does not exist" in str(cause) else "is the database up?"
            fail(f"seeding failed: {cause}\n{hint}", title="seed")
            return
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        if as_json:
            print_json({**report.as_dict(), "elapsed_ms": elapsed_ms,
                        "operators_file": str(operators) if operators else None})
        else:
            from cli.render.seed import seed_card

            console.print(seed_card(report, elapsed_ms))
            if operators is not None:
                console.print(f"CSR console logins (dev stack): {operators}")


async def _seed() -> tuple[SeedReport, Path | None]:
    from activities.portal_sessions import seed_dev_operators
    from activities.seed import seed_reference_data
    from core.db import get_engine

    try:
        return await seed_reference_data(), await seed_dev_operators()
    finally:
        # The pooled asyncpg connections belong to this command's event loop, which ends here.
        await get_engine().dispose()
