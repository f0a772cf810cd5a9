"""Serve an ASGI app over real TCP inside the test event loop."""

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
async def serve(app: object, access_log: bool = False, http: object = "httptools") -> AsyncIterator[str]:
    """Run `app` with uvicorn on a free port; yield its base URL (`access_log`: uvicorn's records go to logging).

    `http` is uvicorn's protocol: its name, or a class (the API's own, apis/limits.py)."""
    port = free_port()
    logging_ = {"log_level": "info", "log_config": None} if access_log else {"log_level": "warning"}
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", access_log=access_log,
                            http=http, **logging_)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
