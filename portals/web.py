"""What both portals share: the app factory (with `GET /health`), the Jinja2 environment, the
static files, the error page and `serve` (the `python -m portals.<name>.app --host H --port P` CLI).

The portals are API clients like the CLI: a page calls operations through `BssClient` with the
portal's surface token, never the database. An `ApiError` a page lets through becomes an error page
in words (the rule's message for a refusal, a plain "try again later" when the API is down), with
the API's status mapped to one a browser understands; nothing ever shows a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, DictLoader, Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException

from core.api_client import ApiError, BssClient
from portals.placeholder import serve  # noqa: F401 - one CLI contract for every portal process

log = logging.getLogger("bss.portals")
STATIC = Path(__file__).parent / "static"
HTMX = "/static/vendor/htmx/htmx.min.js"

# The shared error page; it extends the portal's own `base.html`.
ERROR_TEMPLATE = """{% extends "base.html" %}
{% block title %}{{ heading }}{% endblock %}
{% block content %}
<section class="notice" aria-labelledby="error-heading">
  <h1 id="error-heading">{{ heading }}</h1>
  <p>{{ message }}</p>
  {% if hint %}<p>{{ hint }}</p>{% endif %}
  {% if code %}<p class="muted"><small>Reference: <code>{{ code }}</code></small></p>{% endif %}
  <p><a href="/">Back to the home page</a></p>
</section>
{% endblock %}
"""


def friendly(status: int, code: str, message: str) -> tuple[int, str, str, str]:
    """(page status, heading, message, hint) for an API answer, in words a customer understands.

    A refusal (4xx) keeps its rule's message, which is written for people; a failure of the API
    itself (5xx, unreachable) never shows internals such as the API's address.
    """
    if status >= 500 or code == "api.unreachable":
        return (503, "Service temporarily unavailable",
                "We cannot reach our systems right now, so this page cannot be shown.",
                "Nothing was changed. Please try again in a few minutes.")
    if status == 404:
        return 404, "Not found", message, "It may have been removed, or the link may be wrong."
    if status in (401, 403):
        return 403, "Not allowed", message, ""
    if status == 409:
        return 409, "That cannot be done right now", message, ""
    if status == 422:
        return 422, "We could not do that", message, "Nothing was changed."
    if status == 429:
        return 429, "Too many requests", message, "Please wait a moment and try again."
    return 400, "Something in the request was not right", message, ""


class Portal:
    """One portal: its name, surface, templates and the API it calls."""

    def __init__(self, name: str, surface: str, templates: Path, api_url: str | None = None,
                 globals_: dict[str, Any] | None = None) -> None:
        self.name, self.surface, self.api_url = name, surface, api_url
        self.env = Environment(loader=ChoiceLoader([FileSystemLoader(templates),
                                                    DictLoader({"error.html": ERROR_TEMPLATE})]),
                               autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update({"htmx_src": HTMX, "portal": name, **(globals_ or {})})

    @contextmanager
    def client(self, **kwargs: Any) -> Iterator[BssClient]:
        """A client of the API with this portal's surface token (`on_behalf_of=` for a logged-in customer)."""
        with BssClient(surface=self.surface, base_url=self.api_url, timeout=10.0, **kwargs) as client:
            yield client

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """Render a template into an HTML response."""
        return HTMLResponse(self.env.get_template(template).render(**context), status_code=status)

    def error_page(self, status: int, code: str, message: str) -> HTMLResponse:
        """The error page for an API answer (or our own 404), in words."""
        page_status, heading, text, hint = friendly(status, code, message)
        response = self.render("error.html", page_status, heading=heading, message=text, hint=hint, code=code)
        if page_status == 503:
            response.headers["Retry-After"] = "30"
        return response


def create_portal(portal: Portal, routes: Callable[[FastAPI, Portal], None]) -> FastAPI:
    """A FastAPI app for `portal`: `/health`, `/static`, error pages, plus the pages `routes` adds."""
    app = FastAPI(title=portal.name, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = portal

    @app.get("/health", include_in_schema=False)
    def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "service": portal.name})

    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> HTMLResponse:
        log.info("%s %s: API answered %s %s", request.method, request.url.path, exc.status, exc.code)
        return portal.error_page(exc.status, exc.code, exc.message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> HTMLResponse:
        if exc.status_code == 404:
            return portal.error_page(404, "page.not_found", "There is no page at this address.")
        if exc.status_code == 405:
            return portal.error_page(400, "method.not_allowed", "This page cannot be used that way.")
        return portal.error_page(exc.status_code, f"http.{exc.status_code}", str(exc.detail))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> HTMLResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return portal.error_page(500, "portal.error", "")

    routes(app, portal)
    return app
