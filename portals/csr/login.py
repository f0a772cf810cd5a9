"""Operator login on the CSR console: username and password (argon2id at the API), rate-limited there.

A wrong username, a wrong password and a disabled account get the same answer, so the page tells
nobody which accounts exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import Response

from core.api_error import ApiError
from portals import session as sessions
from portals.auth_routes import add_session_routes
from portals.web import Portal, redirect

HOME = "/search"


def add_login_routes(app: FastAPI, portal: Portal) -> None:
    """Register `/login`, `/logout` and `/step-up`."""
    add_session_routes(app, portal, HOME)

    @app.get("/login")
    def login_form(request: Request, next: str = HOME) -> Response:
        found = sessions.current(request)
        target = sessions.safe_next(next, HOME)
        if found is not None and found.operator is not None:
            return redirect(request, target)
        return portal.page(request, "login.html", next=target, nav="login")

    @app.post("/login")
    def login(request: Request, username: Annotated[str, Form(max_length=64)],
              password: Annotated[str, Form(max_length=200)],
              next: Annotated[str, Form(max_length=500)] = HOME) -> Response:
        target = sessions.safe_next(next, HOME)
        try:
            with portal.client() as client:
                answer = client.post(f"{sessions.SESSION_API}/operator-login", {
                    "username": username.strip(), "password": password,
                    "clientAddress": sessions.client_address(request)})
        except ApiError as exc:
            if exc.status in (400, 422, 429):
                message = (exc.message.capitalize() + "." if exc.status == 429
                           else "That username and password do not match an active account.")
                return portal.page(request, "login.html", 429 if exc.status == 429 else 422, next=target,
                                   username=username.strip(), error=message, nav="login")
            raise
        response = redirect(request, target)
        sessions.set_session_cookie(request, response, answer["token"])
        return response
