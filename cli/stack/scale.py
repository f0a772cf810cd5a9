"""How many API and worker processes a running stack was started with (`bss up --api-procs N --workers N`).

`up` records the scale in the run directory; later commands (`bss up` bringing back one killed
component, `status`, `down`, `restart`) read it, so they see and restart the processes that run
rather than the default layout. `down` forgets it. The scale reaches the spawned processes through
their environment (BSS_API_PROCS, BSS_WORKER_PROCS, BSS_WORKER_LAYOUT), as the time mode does.
"""

from __future__ import annotations

import json

from core.settings import Settings, export_environment

# settings field -> the environment variable a child process reads it from
ENV = {"api_workers": "BSS_API_PROCS", "worker_procs": "BSS_WORKER_PROCS", "worker_layout": "BSS_WORKER_LAYOUT"}


def _path(settings: Settings):
    return settings.run_dir / "scale.json"


def with_scale(settings: Settings, **scale: int | str | None) -> Settings:
    """Return `settings` with the given scale (None = unchanged), exported to the processes spawned from here."""
    update = {key: value for key, value in scale.items() if value is not None}
    if not update:
        return settings
    exported: dict[str, str | None] = {ENV[key]: str(value) for key, value in update.items()}
    if "worker_procs" in update and "worker_layout" not in update:
        # A process count given alone means the default layout of that many processes.
        exported[ENV["worker_layout"]] = None
        update["worker_layout"] = None
    export_environment(exported)
    return settings.model_copy(update=update)


def read(settings: Settings) -> dict[str, int | str | None] | None:
    """Return the recorded scale, or None when the stack was not started (or by an older `bss up`)."""
    try:
        scale = json.loads(_path(settings).read_text())
    except (OSError, ValueError):
        return None
    return {key: scale.get(key) for key in ENV}


def recorded(settings: Settings) -> Settings:
    """Return `settings` with the scale the running stack was started with, when one is recorded."""
    scale = read(settings)
    return settings if scale is None else with_scale(settings, **scale)


def remember(settings: Settings) -> None:
    """Record the scale `up` starts the stack with."""
    _path(settings).write_text(json.dumps({key: getattr(settings, key) for key in ENV}))


def forget(settings: Settings) -> None:
    """Drop the record (`down`)."""
    _path(settings).unlink(missing_ok=True)
