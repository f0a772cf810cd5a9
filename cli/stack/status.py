"""What is running, how healthy it is and how much memory it uses (`bss status`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import psutil

from cli.stack import postgres
from cli.stack.components import POSTGRES, Component, build_components
from cli.stack.procs import live_process, read_record, tree, tree_memory, uptime_s, write_record
from core.settings import Settings

HEALTHY, STARTING, DOWN = "healthy", "starting", "down"


@dataclass(frozen=True)
class ComponentStatus:
    """One row of `bss status`."""

    name: str
    title: str
    url: str
    health: str
    pid: int | None
    external: bool
    rss: int | None = None
    pss: int | None = None
    uptime_s: float | None = None
    procs: int | None = None  # the process and its descendants (the API's forked servers, PostgreSQL's backends)

    def as_json(self) -> dict[str, object]:
        """Return the row as plain JSON values (memory in bytes, uptime in seconds)."""
        return asdict(self)


def running_process(settings: Settings, component: Component, adopt: bool = False) -> psutil.Process | None:
    """Return the live process of `component`, checked against the identity in its pid file.

    A PostgreSQL already serving the stack's data directory without a pid file (started by hand,
    or the pid file was lost) is reported too; with `adopt` it is recorded so `down` stops it.
    """
    if component.external:
        return None
    proc = live_process(read_record(settings.run_dir, component.name))
    if proc is None and component.name == POSTGRES:
        proc = postgres.running_postmaster(settings.pg_data_dir)
        if proc is not None and adopt:
            write_record(settings.run_dir, POSTGRES, proc.pid, proc.cmdline())
    return proc


def component_status(settings: Settings, component: Component) -> ComponentStatus:
    """Probe one component and measure its process tree."""
    base = {"name": component.name, "title": component.title, "url": component.url,
            "external": component.external}
    if component.external:
        return ComponentStatus(**base, health=HEALTHY if component.probe(None) else DOWN, pid=None)
    proc = running_process(settings, component)
    if proc is None:
        return ComponentStatus(**base, health=DOWN, pid=None)
    rss, pss = tree_memory(proc)
    return ComponentStatus(**base, health=HEALTHY if component.probe(proc.pid) else STARTING, pid=proc.pid,
                           rss=rss, pss=pss, uptime_s=uptime_s(proc), procs=len(tree(proc)) or None)


def collect(settings: Settings) -> list[ComponentStatus]:
    """Return the status of every component, infrastructure first."""
    return [component_status(settings, component) for component in build_components(settings)]


def all_healthy(rows: list[ComponentStatus]) -> bool:
    """True when every component is healthy."""
    return all(row.health == HEALTHY for row in rows)
