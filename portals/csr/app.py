"""CSR portal placeholder: one page saying what is coming, plus `GET /health`.

Deliberately tiny (Starlette + uvicorn only) so `bss up` starts it fast and it idles in little
memory; the real portal (FastAPI + Jinja2 + htmx, DESIGN.md §2) replaces the page, not the shape.
"""

from __future__ import annotations

import argparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

NAME = "portal-csr"
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>BSS CSR console</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;line-height:1.5}</style>
</head><body>
<h1>BSS customer-service (CSR) portal</h1>
<p>This portal is coming soon. It will let a customer-service agent:</p>
<ul>
  <li>find a customer and open the customer 360: lines, plans, balances, orders, payments,</li>
  <li>open, work and close cases and trouble tickets, with SLA deadlines,</li>
  <li>follow stuck orders and retry or cancel them,</li>
  <li>block, unblock or terminate a line, with the reason recorded in the audit trail,</li>
  <li>ask the assistant (the same operations as the CLI, under the CSR's policies).</li>
</ul>
<p>Until then, everything is available from the <code>bss</code> CLI and the API.</p>
</body></html>
"""


async def index(request: Request) -> HTMLResponse:
    """Serve the placeholder page."""
    return HTMLResponse(PAGE)


async def health(request: Request) -> JSONResponse:
    """Report that the portal process is serving."""
    return JSONResponse({"status": "ok", "service": NAME})


def create_app() -> Starlette:
    """Build the placeholder portal app."""
    return Starlette(routes=[Route("/", index), Route("/health", health)])


app = create_app()


def main(argv: list[str] | None = None) -> None:
    """Serve the portal; host and port default to the settings (`bss up` passes them explicitly)."""
    parser = argparse.ArgumentParser(prog="python -m portals.csr.app")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    if args.host is None or args.port is None:
        # Only a bare start pays for pydantic-settings; the supervisor passes both values.
        from core.settings import get_settings

        settings = get_settings()
        args.host = args.host or settings.host
        args.port = args.port or settings.csr_port
    import uvicorn

    uvicorn.run(app, host=args.host, port=args.port, http="httptools", ws="none", lifespan="off",
                access_log=False, log_level="info")


if __name__ == "__main__":
    main()
