"""What both portals share: the app factory (with `GET /health`), the Jinja2 environment, the
static files, the error page and `serve` (the `python -m portals.<name>.app --host H --port P` CLI).

The portals are API clients like the CLI: a page calls operations through `BssClient` with the
portal's surface token, never the database; all clients of a portal share one pooled connection
transport, so a page's API calls reuse warm connections. Sessions, CSRF and step-up are
portals/session.py; `create_portal` checks CSRF on every unsafe request and turns `LoginRequired` /
`StepUpRequired` into redirects. An `ApiError` a page lets through becomes an error page
in words (the rule's message for a refusal, a plain "try again later" when the API is down), with
the API's status mapped to one a browser understands; nothing ever shows a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, DictLoader, Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from core.api_client import ApiError, BssClient
from core.settings import get_settings
from portals import session as sessions
from portals.placeholder import serve  # noqa: F401 - one CLI contract for every portal process

log = logging.getLogger("bss.portals")
STATIC = Path(__file__).parent / "static"
SHARED_TEMPLATES = Path(__file__).parent / "templates"  # pages both portals show (step-up), extending their base
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
    if status == 413:
        return 413, "That was too much to send at once", "The form was larger than this site accepts.", ""
    return 400, "Something in the request was not right", message, ""


class _SharedTransport(httpx.HTTPTransport):
    """One keep-alive connection pool for all of a portal's API clients; a client's `close` leaves it open.

    Every request passes here, so this is where a write to a session evicts it from the session cache.
    """

    def __init__(self, cache: sessions.SessionCache, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cache = cache

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request`, dropping the cached session it changes before and after (no read in between keeps it)."""
        self.cache.evict_on_write(request.method, request.url.path)
        try:
            return super().handle_request(request)
        finally:
            self.cache.evict_on_write(request.method, request.url.path)

    def close(self) -> None:
        """Keep the pool: it outlives every client that borrows it."""

    def shut(self) -> None:
        """Close the pool (the portal is stopping)."""
        super().close()


@pass_context
def _csrf_input(context: Any) -> Markup:
    """The hidden CSRF field every form carries."""
    return Markup('<input type="hidden" name="csrf" value="{}">').format(escape(context.get("csrf") or ""))


class Portal:
    """One portal: its name, surface, templates, cookies and the API it calls."""

    def __init__(self, name: str, surface: str, templates: Path, api_url: str | None = None,
                 globals_: dict[str, Any] | None = None) -> None:
        self.name, self.surface, self.api_url = name, surface, api_url
        # Both portals are served from one host on different ports, and cookies ignore ports: distinct names.
        prefix = name.replace("-", "_")
        self.cookie, self.csrf_cookie = f"{prefix}_session", f"{prefix}_csrf"
        self.sessions = sessions.SessionCache(get_settings().portal_session_cache_seconds)
        self.transport = _SharedTransport(self.sessions,
                                          limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))
        self.env = Environment(loader=ChoiceLoader([FileSystemLoader(templates), FileSystemLoader(SHARED_TEMPLATES),
                                                    DictLoader({"error.html": ERROR_TEMPLATE})]),
                               autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update({"htmx_src": HTMX, "portal": name, "csrf_input": _csrf_input, **(globals_ or {})})

    @contextmanager
    def client(self, **kwargs: Any) -> Iterator[BssClient]:
        """A client of the API with this portal's surface token (`on_behalf_of=` for a logged-in customer)."""
        with BssClient(surface=self.surface, base_url=self.api_url, timeout=10.0, transport=self.transport,
                       **kwargs) as client:
            yield client

    def client_for(self, session: sessions.PortalSession) -> Any:
        """A client acting for `session`'s person: bound to the customer, or with the operator as actor."""
        if session.customer_id:
            return self.client(on_behalf_of=session.customer_id)
        return self.client(actor=session.actor)

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """Render a template into an HTML response."""
        return HTMLResponse(self.env.get_template(template).render(**context), status_code=status)

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """Render a page for `request`: its session and CSRF token in the context (and the CSRF cookie kept)."""
        session = sessions.current(request)
        context.setdefault("session", session)
        context.setdefault("csrf", sessions.expected_csrf(request))
        response = self.render(template, status, **context)
        sessions.keep_anonymous_csrf(request, response)
        return response

    def error_page(self, status: int, code: str, message: str, request: Request | None = None) -> HTMLResponse:
        """The error page for an API answer (or our own 404), in words."""
        page_status, heading, text, hint = friendly(status, code, message)
        session = getattr(request.state, "portal_session", None) if request is not None else None
        response = self.render("error.html", page_status, heading=heading, message=text, hint=hint, code=code,
                               session=session, csrf=session.csrf if session else "")
        if page_status == 503:
            response.headers["Retry-After"] = "30"
        return response


def create_portal(portal: Portal, routes: Callable[[FastAPI, Portal], None]) -> FastAPI:
    """A FastAPI app for `portal`: `/health`, `/static`, error pages, plus the pages `routes` adds."""
    # A body over the API's limit is refused here too (413: FastAPI's own limit, an error page or plain text).
    app = FastAPI(title=portal.name, docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(sessions.csrf_guard)], max_body_size=get_settings().request_max_body_bytes)
    app.state.portal = portal
    app.router.add_event_handler("shutdown", portal.transport.shut)

    @app.get("/health", include_in_schema=False)
    def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "service": portal.name})

    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> HTMLResponse:
        log.info("%s %s: API answered %s %s", request.method, request.url.path, exc.status, exc.code)
        return portal.error_page(exc.status, exc.code, exc.message, request)

    @app.exception_handler(sessions.LoginRequired)
    async def login_first(request: Request, exc: sessions.LoginRequired) -> Response:
        return redirect(request, f"/login?next={quote(exc.next, safe='')}")

    @app.exception_handler(sessions.StepUpRequired)
    async def step_up_first(request: Request, exc: sessions.StepUpRequired) -> Response:
        # The code is mailed now, so the page that opens is the one that takes it.
        token = sessions.token_of(request)
        sent = "0"
        if token:
            try:
                await run_in_threadpool(sessions.request_step_up, portal, token)
                sent = "1"
            except ApiError as error:
                log.info("step-up code not sent: %s", error.code)
        return redirect(request, f"/step-up?next={quote(exc.next, safe='')}&sent={sent}")

    @app.exception_handler(sessions.CsrfRejected)
    async def csrf_rejected(request: Request, exc: sessions.CsrfRejected) -> HTMLResponse:
        log.info("%s %s: CSRF token missing or wrong", request.method, request.url.path)
        return portal.error_page(403, "portal.csrf.rejected",
                                 "This form has expired. Reload the page and try again.", request)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> HTMLResponse:
        if exc.status_code == 404:
            return portal.error_page(404, "page.not_found", "There is no page at this address.", request)
        if exc.status_code == 405:
            return portal.error_page(400, "method.not_allowed", "This page cannot be used that way.", request)
        if exc.status_code == 422:  # a form field missing or of the wrong type
            return portal.error_page(400, "form.invalid", "Some of the form was missing or not valid.", request)
        return portal.error_page(exc.status_code, f"http.{exc.status_code}", str(exc.detail), request)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> HTMLResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return portal.error_page(500, "portal.error", "")

    @app.exception_handler(RequestValidationError)
    async def invalid_form(request: Request, exc: RequestValidationError) -> HTMLResponse:
        return portal.error_page(400, "form.invalid", "Some of the form was missing or not valid.", request)

    routes(app, portal)
    return app


def redirect(request: Request, location: str) -> Response:
    """A 303 to `location`, or for an htmx request an `HX-Redirect` (htmx would swap the page in place)."""
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)

