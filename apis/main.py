"""API process entry point: `python -m apis.main` (uvicorn, uvloop, httptools; `api_workers` processes)."""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys

import uvicorn

from core.settings import get_settings

PR_SET_PDEATHSIG = 1


def main() -> None:
    """Serve the API on the configured host and port, in `api_workers` processes sharing one socket."""
    settings = get_settings()
    from apis.app import create_app
    from apis.limits import header_limited_protocol

    # Built once, before any fork: engine, Temporal client and span export start lazily (or, for the
    # exporter thread, anew in each child), so every process shares the imported code and the routes.
    app = create_app(settings)
    http = header_limited_protocol(settings.request_max_header_bytes)  # httptools, refusing huge heads (431)
    config = uvicorn.Config(app, host=settings.host, port=settings.api_port, loop="uvloop", http=http,
                            ws="none", log_level=settings.log_level.lower(), access_log=False, lifespan="on")
    sockets = None
    # Scenario time keeps one process: its time skipper tracks the workflows its own client started.
    if settings.api_workers > 1 and not settings.time_skipping:
        sockets = [config.bind_socket()]
        _fork_workers(settings.api_workers - 1)
    uvicorn.Server(config).run(sockets=sockets)


def _fork_workers(count: int) -> None:
    """Fork `count` more servers of the bound socket; this process serves too and stays the one to signal.

    A request is CPU-bound Python and one event loop uses one core, so a second process doubles what
    the API serves on two cores. Forking the built app (no loop or connection exists yet) shares its
    code and routes between the processes instead of importing and building them twice, as
    `uvicorn --workers` (fresh interpreters) would.
    """
    gc.freeze()  # keep the collector from writing to (and so un-sharing) the imported objects
    parent = os.getpid()
    for _ in range(count):
        if os.fork() == 0:
            if sys.platform == "linux":
                # The stack signals the parent only; a child must not outlive it (even a SIGKILL) and
                # keep the port. SIGTERM makes uvicorn finish its requests and shut down cleanly.
                ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
                if os.getppid() != parent:  # the parent died before the line above
                    os._exit(0)
            return


if __name__ == "__main__":
    main()
