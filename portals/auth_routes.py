"""The pages both portals share around a session: logging out and the step-up code.

A step-up is asked for by `portals.session.require_step_up`: the portal mails a code and sends the
person here with the page to return to; a right code gives a few minutes of sensitive writes and
goes back to that page, where the person does what they meant to (a POST is never replayed).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import Response

from core.api_error import ApiError
from portals import session as sessions
from portals.web import Portal, redirect

CODE_PATTERN = r"\d{6}"


def add_session_routes(app: FastAPI, portal: Portal, home: str) -> None:
    """Register `/logout` and `/step-up` (its form, its check, and 'send a new code')."""

    @app.post("/logout")
    def logout(request: Request) -> Response:
        token = sessions.token_of(request)
        if token:
            try:
                with portal.client() as client:
                    client.delete(sessions.session_path(token))
            except ApiError as exc:
                if exc.status != 404:
                    raise
        response = redirect(request, "/")
        sessions.clear_session_cookie(request, response)
        return response

    def step_up_page(request: Request, next_path: str, status: int = 200, error: str | None = None,
                     sent: bool = False) -> Response:
        return portal.page(request, "step_up.html", status, next=next_path, error=error, sent=sent,
                           code_pattern=CODE_PATTERN, page="step-up")

    @app.get("/step-up")
    def step_up_form(request: Request, next: str = home, sent: str = "0") -> Response:
        session = sessions.current(request)
        if session is None or session.kind == "visitor":
            raise sessions.LoginRequired(sessions.here(request))
        return step_up_page(request, sessions.safe_next(next, home), sent=sent == "1")

    @app.post("/step-up")
    def step_up(request: Request, code: Annotated[str, Form(max_length=12)],
                next: Annotated[str, Form(max_length=500)] = home) -> Response:
        session = sessions.current(request)
        if session is None or session.kind == "visitor":
            raise sessions.LoginRequired("/")
        target = sessions.safe_next(next, home)
        try:
            with portal.client() as client:
                client.post(sessions.session_path(session.token, "step-up/verify"),
                            {"code": code.strip()})
        except ApiError as exc:
            if exc.status in (400, 422):
                message = ("A code is 6 digits." if exc.status == 400 else exc.message.capitalize() + ".")
                return step_up_page(request, target, 422, error=message)
            raise
        return redirect(request, target)

    @app.post("/step-up/send")
    def step_up_send(request: Request, next: Annotated[str, Form(max_length=500)] = home) -> Response:
        session = sessions.current(request)
        if session is None or session.kind == "visitor":
            raise sessions.LoginRequired("/")
        target = sessions.safe_next(next, home)
        try:
            sessions.request_step_up(portal, session.token)
        except ApiError as exc:
            if exc.status == 429:
                return step_up_page(request, target, 429, error=exc.message.capitalize() + ".")
            raise
        return step_up_page(request, target, sent=True)
