"""`bss migrate`: bring the database schema up to date."""

from __future__ import annotations

import typer

from cli.output import console


def register(app: typer.Typer) -> None:
    """Add the database commands to `app`."""

    @app.command("migrate")
    def migrate() -> None:
        """Create the database if needed and apply every pending migration."""
        from core.settings import get_settings
        from migrations.runner import upgrade

        upgrade(get_settings().sqlalchemy_url())
        console.print("[green]database schema up to date[/]")
