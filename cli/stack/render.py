"""Rich tables of the stack: status (health, pid, URL, memory, uptime) and the URLs to open."""

from __future__ import annotations

from rich.table import Table

from cli.render.style import table
from cli.stack.status import DOWN, HEALTHY, STARTING, ComponentStatus
from core.settings import Settings

HEALTH_STYLES = {HEALTHY: "green", STARTING: "yellow", DOWN: "red"}


def megabytes(value: int | None) -> str:
    """Format a byte count as MB, or a dash."""
    return "—" if value is None else f"{value / 1_048_576:,.0f} MB"


def duration(seconds: float | None) -> str:
    """Format an uptime compactly (`42s`, `3m05s`, `2h07m`, `3d04h`)."""
    if seconds is None:
        return "—"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def status_table(rows: list[ComponentStatus]) -> Table:
    """Return the `bss status` table with a memory total."""
    t = table("component", "health", "pid", "procs", "url", "RSS", "PSS", "uptime", title="BSS stack")
    t.columns[4].overflow = "fold"  # a URL cut short with an ellipsis cannot be copied
    for column in (t.columns[3], t.columns[5], t.columns[6], t.columns[7]):
        column.justify = "right"
    for row in rows:
        style = HEALTH_STYLES.get(row.health, "")
        pid = "external" if row.external else (str(row.pid) if row.pid else "—")
        t.add_row(row.name, f"[{style}]{row.health}[/]", pid, str(row.procs or "—"), row.url, megabytes(row.rss),
                  megabytes(row.pss), duration(row.uptime_s))
    rss = sum(r.rss or 0 for r in rows)
    pss = sum(r.pss or 0 for r in rows) if all(r.pss is not None for r in rows if r.rss) else None
    procs = sum(r.procs or 0 for r in rows)
    t.add_section()
    t.add_row("[bold]total[/]", "", "", f"[bold]{procs}[/]", "", f"[bold]{megabytes(rss)}[/]",
              f"[bold]{megabytes(pss)}[/]", "")
    return t


def url_rows(settings: Settings) -> list[tuple[str, str]]:
    """Return (what, where) for everything a person opens once the stack is up."""
    web = settings.temporal_web_url
    return [
        ("API", settings.api_base_url),
        ("API docs", f"{settings.api_base_url}/docs"),
        ("Temporal gRPC", settings.temporal_target),
        ("Temporal Web UI", f"{web}/namespaces/{settings.temporal_namespace}/workflows"),
        ("Self-serve portal", f"http://{settings.host}:{settings.self_serve_port}"),
        ("CSR portal", f"http://{settings.host}:{settings.csr_port}"),
        ("PostgreSQL", settings.asyncpg_dsn() if settings.embedded_db else "external (BSS_DATABASE_URL)"),
        ("Logs", str(settings.log_dir)),
    ]


def urls_table(settings: Settings) -> Table:
    """Return the table of URLs printed at the end of `bss up`."""
    t = table("", "where")
    for what, where in url_rows(settings):
        t.add_row(what, f"[link={where}]{where}[/link]" if where.startswith("http") else where)
    return t
