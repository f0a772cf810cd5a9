"""The `bss` command: a Typer app whose groups are registered lazily to keep start-up fast."""

from __future__ import annotations

import typer

from cli.commands import register_all


def _flags_show_no_type() -> None:
    """Show no value type beside flags in `--help` (Typer's rich help prints `<bool>` for them)."""
    # Typer 0.29's plain help already skips flags; its rich panel asks every option for a type.
    # A flag takes no value, so `--json <bool>` would tell the operator to type one.
    from typer.core import TyperOption

    if getattr(TyperOption.display_type_rich, "_flags_hidden", False):
        return
    typed = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: typer.Context) -> str | None:
        return None if self.is_flag and self.metavar is None else typed(self, ctx)

    display_type_rich._flags_hidden = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_show_no_type()
app = typer.Typer(name="bss", help="BSS-CLI: run a prepaid mobile operator from the terminal.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False, add_completion=False)


@app.callback()
def _root() -> None:
    """BSS-CLI: run a prepaid mobile operator from the terminal."""


register_all(app)


def main() -> None:
    """Console-script entry point."""
    from cli.output import ascii_fallback

    ascii_fallback()
    app()


if __name__ == "__main__":
    main()
