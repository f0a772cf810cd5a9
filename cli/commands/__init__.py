"""Command groups of `bss`: every module here exposes `register(app)` and is found by name.

Modules import their heavy dependencies inside the commands, so `bss status` never pays for
FastAPI, SQLAlchemy or Temporal.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer


def register_all(app: typer.Typer) -> None:
    """Register every command module of this package on `app`, in name order."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}").register(app)
