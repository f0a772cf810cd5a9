"""The CSR console's routes: one line per area (login, the work pages, the ask-the-agent panel)."""

from __future__ import annotations

from fastapi import FastAPI

from portals.csr.agent_panel import add_agent_routes
from portals.csr.console import add_console_routes
from portals.csr.login import add_login_routes
from portals.web import Portal


def add_routes(app: FastAPI, portal: Portal) -> None:
    """Register every page of the console."""
    add_login_routes(app, portal)
    add_console_routes(app, portal)
    add_agent_routes(app, portal)
