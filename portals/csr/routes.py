"""The CSR console's routes: one line per area (login, the work pages, the ask-the-agent panel)."""

from __future__ import annotations

from fastapi import FastAPI

from portals.csr.console import add_console_routes
from portals.web import Portal

try:
    from portals.csr.login import add_login_routes
except ImportError:  # the login page is the coordinator's; until it lands, logout and step-up only
    from portals.auth_routes import add_session_routes

    def add_login_routes(app: FastAPI, portal: Portal) -> None:
        """Logout and step-up (the login form itself is portals/csr/login.py)."""
        add_session_routes(app, portal, "/search")


def add_routes(app: FastAPI, portal: Portal) -> None:
    """Register every page of the console."""
    add_login_routes(app, portal)
    add_console_routes(app, portal)
