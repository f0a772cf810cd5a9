"""`bss migrate`: bring the database schema up to date."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.output import console, fail, print_json


def register(app: typer.Typer) -> None:
    """Add the database commands to `app`."""

    @app.command("migrate")
    def migrate(as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False) -> None:
        """Create the database if needed and apply every pending migration."""
        from alembic.script import ScriptDirectory
        from sqlalchemy.engine import make_url

        from core.settings import get_settings
        from migrations.runner import alembic_config, upgrade

        url = get_settings().sqlalchemy_url()
        try:
            upgrade(url)
        except OSError as exc:  # asyncpg could not reach the server
            fail(f"migration failed: {exc}\nis the database up? try `bss up`", title="migrate")
        heads = sorted(ScriptDirectory.from_config(alembic_config(url)).get_heads())
        if as_json:
            print_json({"database": make_url(url).database, "upToDate": True, "heads": heads})
        else:
            console.print(f"[green]database schema up to date[/] [dim]({len(heads)} branch heads)[/]")
