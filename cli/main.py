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


TEMPORAL_BRIDGE = "temporalio.bridge.temporal_sdk_bridge"


def _exit_without_finalizing(code: object) -> None:
    """Run exit handlers, flush, and leave without interpreter finalization."""
    # The Temporal core's Rust threads can touch the GIL while CPython finalizes and abort the
    # process ("PyGILState_Release … finalizing", exit 134) after the output was printed
    # (temporalio/sdk-python#300). atexit handlers (span exporters) still run; only finalization is skipped.
    import atexit
    import os
    import sys

    if isinstance(code, str):
        sys.stderr.write(code + "\n")
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`bss … | head`) has nothing left to flush into
            pass
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)


def main() -> None:
    """Console-script entry point."""
    import sys

    from cli.output import ascii_fallback

    ascii_fallback()
    if len(sys.argv) == 1 and sys.stdin.isatty() and sys.stdout.isatty():  # `bss` alone: the REPL cockpit
        from cli.repl import main as repl

        raise SystemExit(repl())
    try:
        app()
    except SystemExit as done:
        if TEMPORAL_BRIDGE in sys.modules:
            _exit_without_finalizing(done.code)
        raise


if __name__ == "__main__":
    main()
