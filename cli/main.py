"""The `bss` command: a Typer app whose groups are registered lazily to keep start-up fast."""

from __future__ import annotations

import typer

from cli.commands import register_all

app = typer.Typer(name="bss", help="BSS-CLI: run a prepaid mobile operator from the terminal.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False, add_completion=False)


@app.callback()
def _root() -> None:
    """BSS-CLI: run a prepaid mobile operator from the terminal."""


register_all(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
