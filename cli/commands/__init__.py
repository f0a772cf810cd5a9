"""Command groups of `bss`; each module exposes `register(app)`.

Modules import their heavy dependencies inside the commands, so `bss status` never pays for
FastAPI, SQLAlchemy or Temporal.
"""

from __future__ import annotations

import importlib

import typer

MODULES = ("cli.commands.stack", "cli.commands.db", "cli.commands.seed")


def register_all(app: typer.Typer) -> None:
    """Register every command module that exists on `app`."""
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(app)
