"""A placeholder portal: one page saying what is coming, plus `GET /health`.

Deliberately tiny (Starlette + uvicorn only) so `bss up` starts it fast and it idles in little
memory; the real portals (FastAPI + Jinja2 + htmx, DESIGN.md §2) replace the page, not the shape.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from html import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route


def page(title: str, heading: str, intro: str, coming: list[str]) -> str:
    """Render the placeholder page."""
    items = "\n".join(f"  <li>{escape(item)}</li>" for item in coming)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;line-height:1.5}}</style>
</head><body>
<h1>{escape(heading)}</h1>
<p>{escape(intro)}</p>
<ul>
{items}
</ul>
<p>Until then, everything is available from the <code>bss</code> CLI and the API.</p>
</body></html>
"""


def create_app(name: str, html: str) -> Starlette:
    """Build a placeholder portal app serving `html` at `/` and its health at `/health`."""

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(html)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "service": name})

    return Starlette(routes=[Route("/", index), Route("/health", health)])


def serve(app: Starlette, prog: str, default_port: Callable[[object], int], argv: list[str] | None = None) -> None:
    """Serve a portal; host and port default to the settings (`bss up` passes them explicitly)."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    if args.host is None or args.port is None:
        # Only a bare start pays for pydantic-settings; the supervisor passes both values.
        from core.settings import get_settings

        settings = get_settings()
        args.host = args.host or settings.host
        args.port = args.port or default_port(settings)
    import uvicorn

    uvicorn.run(app, host=args.host, port=args.port, http="httptools", ws="none", lifespan="off",
                access_log=False, log_level="info")
