"""Map every error to a TMF `Error` body, once, at the HTTP edge."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.exceptions import WorkflowAlreadyStartedError

from core.errors import BssError, PolicyViolation
from core.outage import is_outage

log = logging.getLogger("bss.api")

JSON_TYPE = "application/json;charset=utf-8"


def tmf_error(status: int, code: str, reason: str, message: str, **extra: Any) -> JSONResponse:
    """Build a TMF `Error` response (`code`, `reason`, `message`, `status`, `@type`) plus extras."""
    body = {"@type": "Error", "code": code, "reason": reason, "message": message, "status": str(status)}
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=JSON_TYPE)


def error_response(exc: BssError) -> JSONResponse:
    """Render one of our errors with its rule code and context."""
    violations = None
    if isinstance(exc, PolicyViolation):
        violations = [{"code": v.code, "message": v.message, "context": v.context} for v in exc.violations]
    return tmf_error(exc.status, exc.code, exc.reason, exc.message, context=exc.context or None,
                     violations=violations)


def _field_path(loc: tuple[Any, ...], error_type: str | None = None) -> str:
    if error_type == "json_invalid":  # the location is a character offset, not a field
        return "body"
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_response(exc: RequestValidationError) -> JSONResponse:
    """Render a malformed request as a 400 naming the first offending field."""
    errors = exc.errors()
    details = [{"field": _field_path(tuple(e.get("loc", ())), e.get("type")), "problem": e.get("msg", ""), "type": e.get("type")}
               for e in errors]
    first = details[0] if details else {"field": "body", "problem": "malformed request"}
    if errors and errors[0].get("type") == "json_invalid":
        message = "the request body is not valid JSON"
    else:
        message = f"{first['field']}: {first['problem']}"
    return tmf_error(400, "request.malformed", "Bad request", message, context={"errors": details})


# invalid_byte_sequence (a NUL in text: 22021) and untranslatable_character (22P05).
_UNSTORABLE = (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError)


def unstorable_text(exc: BaseException | None) -> bool:
    """True when `exc`, or an error it wraps, is the database (or its driver) refusing a character of some text."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, _UNSTORABLE) or (isinstance(exc, UnicodeEncodeError) and exc.reason == "surrogates not allowed"):
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a TMF `Error`."""

    @app.exception_handler(BssError)
    async def _bss(_: Request, exc: BssError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_response(exc)

    @app.exception_handler(WorkflowAlreadyStartedError)
    async def _duplicate_flow(_: Request, exc: WorkflowAlreadyStartedError) -> JSONResponse:
        # Workflow ids are business keys; a second start of the same key is a conflict, not a crash.
        return tmf_error(409, "workflow.already_started", "Conflict",
                         f"a flow for this business key already ran: {exc.workflow_id}",
                         context={"workflowId": exc.workflow_id})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return tmf_error(404, "route.not_found", "Not found", f"no resource at {request.url.path}")
        if exc.status_code == 405:
            return tmf_error(405, "route.method_not_allowed", "Method not allowed",
                             f"{request.method} is not supported on {request.url.path}")
        if exc.status_code == 413:  # a body over the limit, found while it streamed in (apis/limits.py)
            return tmf_error(413, "request.body_too_large", "Content too large", str(exc.detail))
        return tmf_error(exc.status_code, f"http.{exc.status_code}", str(exc.detail), str(exc.detail))

    async def _unstorable(_: Request, exc: Exception) -> JSONResponse:
        if not unstorable_text(exc):
            raise exc  # not the request's text: the handlers below answer it (an outage, or a crash)
        # PostgreSQL (or its driver) refused a character of the request; its transaction rolled back.
        return tmf_error(400, "request.malformed", "Bad request",
                         "the request has text the store cannot keep (a NUL character or a lone surrogate)")

    for raised in (DBAPIError, UnicodeEncodeError, *_UNSTORABLE):  # through SQLAlchemy, or asyncpg used directly
        app.add_exception_handler(raised, _unstorable)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        if is_outage(exc):
            # The database is restarting or away: a retry will do, nothing here is broken.
            log.warning("database unavailable: %s: %s", exc.__class__.__name__, exc)
            response = tmf_error(503, "database.unavailable", "Service unavailable",
                                 "the database cannot be reached right now; try again")
            response.headers["Retry-After"] = "2"
            return response
        log.exception("unhandled error", exc_info=exc)
        return tmf_error(500, "internal.unexpected", "Internal error", "an unexpected error occurred")
