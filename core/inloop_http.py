"""Serve an ASGI app with uvicorn inside the running event loop (a private stack, a test, a bench listener)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn


def free_port() -> int:
    """Return a TCP port that is free right now on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def serve(app: object, port: int | None = None, access_log: bool = False,
                http: object = "httptools") -> AsyncIterator[str]:
    """Run `app` on `port` (a free one by default) in this loop; yield its base URL.

    `access_log`: uvicorn's records go to logging; `http`: uvicorn's protocol, a name or a class."""
    port = port or free_port()
    logging_ = {"log_level": "info", "log_config": None} if access_log else {"log_level": "warning"}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", access_log=access_log,
                                           http=http, **logging_))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # it could not start: raise why
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
