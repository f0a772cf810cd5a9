"""The self-serve portal's public pages: the landing page and the plan comparison.

Both read the live catalog through the catalog operations (never the database), so a price change
made through the API shows on the next page view. Handlers are plain `def`s: the API client is
synchronous, and FastAPI runs them in its thread pool.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from operations import catalog
from portals.self_serve.account import add_account_routes
from portals.self_serve.catalog_view import ALLOWANCES, offers
from portals.self_serve.chat import add_chat_routes
from portals.self_serve.login import add_login_routes
from portals.self_serve.settings import add_settings_routes
from portals.self_serve.signup import add_signup_routes
from portals.web import Portal


def add_routes(app: FastAPI, portal: Portal) -> None:
    """Register the public pages, then each area's pages."""
    add_login_routes(app, portal)
    add_signup_routes(app, portal)
    add_chat_routes(app, portal)
    add_settings_routes(app, portal)
    add_account_routes(app, portal)

    @app.get("/", response_class=HTMLResponse)
    def landing(request: Request) -> HTMLResponse:
        with portal.client() as client:
            plans = offers(catalog.list_(client))
        return portal.page(request, "landing.html", plans=plans, page="home")

    @app.get("/plans", response_class=HTMLResponse)
    def plans(request: Request) -> HTMLResponse:
        with portal.client() as client:
            plans, addons = offers(catalog.list_(client)), offers(catalog.vas(client))
        periods = {p.period_days for p in plans if p.period_days}
        period = periods.pop() if len(periods) == 1 else 30
        return portal.page(request, "plans.html", plans=plans, addons=addons, rows=ALLOWANCES, period=period,
                           page="plans")
