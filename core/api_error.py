"""The error our typed API client raises for a TMF `Error` answer, importable without the client.

The CLI builds every command from the operations at start-up; an operation that tells one refusal
from another needs this class, not httpx and the settings the client pulls in.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A TMF `Error` answer (4xx/5xx) from the BSS API."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body
        self.code = str(body.get("code", f"http.{status}"))
        self.message = str(body.get("message") or body.get("reason") or "request failed")
        self.context = body.get("context") or {}
        super().__init__(f"{self.code}: {self.message}")
