"""The `bss` command line: Typer app, renderers, stack supervisor."""
