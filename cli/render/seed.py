"""The `bss seed` report card: rows inserted and already present per reference dataset."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType

from cli.render.style import card, table

if TYPE_CHECKING:
    from activities.seed import SeedReport


def seed_card(report: SeedReport, elapsed_ms: int) -> RenderableType:
    """What `bss seed` did per dataset: inserted, already present, expected total."""
    rows = table("dataset", "inserted", "already present", "total")
    rows.show_edge = False
    for column in rows.columns[1:]:
        column.justify = "right"
    for d in report.datasets:
        rows.add_row(d.dataset, f"[green]{d.inserted:,}[/]" if d.inserted else "0", f"{d.already_present:,}",
                     f"{d.expected:,}")
    if report.changed:
        summary = f"[green]inserted {report.inserted:,} rows[/], {report.already_present:,} already present"
    else:
        summary = f"[dim]nothing to do: all {report.already_present:,} rows already present[/]"
    return card("reference data", Group(rows, f"{summary} · {elapsed_ms} ms"))
