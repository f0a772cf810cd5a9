"""The CSR console (:9002): care staff's pages, an API client with the `portal-csr` token.

Operators sign in with a username and password (portals/csr/login.py); the work pages are in
portals/csr/console.py (roles and step-up rules in its docstring). Every call to the API names the
operator as the actor. `python -m portals.csr.app --host H --port P` serves it (`bss up`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from portals.csr.routes import add_routes
from portals.web import Portal, create_portal, serve

NAME = "portal-csr"
BRAND = "BSS Care"
TEMPLATES = Path(__file__).parent / "templates"


def create_app(api_url: str | None = None) -> FastAPI:
    """The CSR console app; `api_url` overrides the settings' API address (tests)."""
    portal = Portal(NAME, "portal-csr", TEMPLATES, api_url=api_url, globals_={"brand": BRAND, "operator": BRAND})
    return create_portal(portal, add_routes)


app = create_app()


def main(argv: list[str] | None = None) -> None:
    """Serve the CSR console."""
    serve(app, "python -m portals.csr.app", lambda s: s.csr_port, argv)


if __name__ == "__main__":
    main()
