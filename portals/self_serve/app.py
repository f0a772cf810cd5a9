"""The self-serve portal (:9001): the customer's pages, an API client with the `portal-self-serve` token.

Today the public part: the landing page and the plan comparison (SPEC.md §8); login, signup and
the dashboard come next. `python -m portals.self_serve.app --host H --port P` serves it (`bss up`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from portals.self_serve.routes import add_routes
from portals.web import Portal, create_portal, serve

NAME = "portal-self-serve"
OPERATOR = "BSS Mobile"
TEMPLATES = Path(__file__).parent / "templates"


def create_app(api_url: str | None = None) -> FastAPI:
    """The self-serve app; `api_url` overrides the settings' API address (tests)."""
    portal = Portal(NAME, "portal-self-serve", TEMPLATES, api_url=api_url, globals_={"operator": OPERATOR})
    return create_portal(portal, add_routes)


app = create_app()


def main(argv: list[str] | None = None) -> None:
    """Serve the self-serve portal."""
    serve(app, "python -m portals.self_serve.app", lambda s: s.self_serve_port, argv)


if __name__ == "__main__":
    main()
