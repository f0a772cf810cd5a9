"""Customer login on the self-serve portal: an email, then the 6-digit code or the magic link from it.

The API mails the code and answers the same whether or not the address has an account, so this
page never tells a visitor who is a customer. A magic link opens a page with one button: mail
scanners that fetch links must not use up the login (the POST does).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import Response

from core.api_error import ApiError
from portals import session as sessions
from portals.auth_routes import CODE_PATTERN, add_session_routes
from portals.web import Portal, redirect

HOME = "/account"


def add_login_routes(app: FastAPI, portal: Portal) -> None:
    """Register `/login`, `/login/code`, `/login/link`, `/logout` and `/step-up`."""
    add_session_routes(app, portal, HOME)

    def form(request: Request, template: str, next_path: str, status: int = 200, **context: object) -> Response:
        return portal.page(request, template, status, next=next_path, code_pattern=CODE_PATTERN, page="login",
                           **context)

    def logged_in(request: Request, answer: dict, next_path: str) -> Response:
        response = redirect(request, next_path)
        sessions.set_session_cookie(request, response, answer["token"])
        return response

    @app.get("/login")
    def login_form(request: Request, next: str = HOME) -> Response:
        found = sessions.current(request)
        if found is not None and found.kind == "customer":
            return redirect(request, sessions.safe_next(next, HOME))
        return form(request, "login.html", sessions.safe_next(next, HOME))

    @app.post("/login")
    def send_code(request: Request, email: Annotated[str, Form(max_length=254)],
                  next: Annotated[str, Form(max_length=500)] = HOME) -> Response:
        target = sessions.safe_next(next, HOME)
        email = email.strip()
        try:
            with portal.client() as client:
                client.post(f"{sessions.SESSION_API}/login/code",
                            {"email": email, "purpose": "login", "clientAddress": sessions.client_address(request)})
        except ApiError as exc:
            if exc.status == 400:
                return form(request, "login.html", target, 422, email=email, error="Please enter a valid email address.")
            if exc.status == 429:
                return form(request, "login.html", target, 429, email=email, error=exc.message.capitalize() + ".")
            raise
        return form(request, "login_code.html", target, email=email)

    @app.post("/login/code")
    def check_code(request: Request, email: Annotated[str, Form(max_length=254)],
                   code: Annotated[str, Form(max_length=12)],
                   next: Annotated[str, Form(max_length=500)] = HOME) -> Response:
        target = sessions.safe_next(next, HOME)
        try:
            with portal.client() as client:
                answer = client.post(f"{sessions.SESSION_API}/login", {
                    "email": email.strip(), "code": code.strip(), "clientAddress": sessions.client_address(request)})
        except ApiError as exc:
            if exc.status in (400, 422, 429):
                message = "A code is the 6 digits from the email." if exc.status == 400 else exc.message.capitalize() + "."
                return form(request, "login_code.html", target, 422 if exc.status != 429 else 429, email=email.strip(),
                            error=message)
            raise
        return logged_in(request, answer, target)

    @app.get("/login/link")
    def link_page(request: Request, token: str = "") -> Response:
        return form(request, "login_link.html", HOME, token=token)

    @app.post("/login/link")
    def use_link(request: Request, token: Annotated[str, Form(max_length=100)]) -> Response:
        try:
            with portal.client() as client:
                answer = client.post(f"{sessions.SESSION_API}/login", {
                    "link": token, "clientAddress": sessions.client_address(request)})
        except ApiError as exc:
            if exc.status in (400, 422, 429):
                return form(request, "login.html", HOME, 422,
                            error="That login link cannot be used any more (links work once, for 10 minutes). "
                                  "Ask for a new code below.")
            raise
        return logged_in(request, answer, HOME)
