"""The typed HTTP client of our own API, shared by the CLI, the portals and the agent.

Every channel goes through the same HTTP API and therefore the same policy layer and audit
trail; this client only adds the surface's token and turns TMF `Error` bodies into `ApiError`.
"""

from __future__ import annotations

from typing import Any, Self

import httpx

from core.api_error import ApiError
from core.settings import Settings, get_settings

__all__ = ["ApiError", "BssClient"]


class BssClient:
    """A thin synchronous client: JSON in, JSON out, TMF errors raised as `ApiError`."""

    def __init__(self, surface: str = "cli", settings: Settings | None = None, base_url: str | None = None,
                 actor: str | None = None, transport: httpx.BaseTransport | None = None,
                 timeout: float = 30.0, on_behalf_of: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        settings = settings or get_settings()
        headers = {"X-BSS-API-Token": settings.api_tokens()[surface], **(headers or {})}
        if actor:
            headers["X-BSS-Actor"] = actor
        if on_behalf_of:  # a customer-bound call: every id it names must be that customer's (apis/ownership.py)
            headers["X-BSS-On-Behalf-Of"] = on_behalf_of
        self._http = httpx.Client(base_url=base_url or settings.api_base_url, headers=headers, timeout=timeout,
                                  transport=transport)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """Send a request; return the decoded JSON (a `text/*` body as text, None for 204) or raise `ApiError`."""
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, json=json, params=clean)
        except httpx.TransportError as exc:
            raise ApiError(503, {"code": "api.unreachable",
                                 "message": f"the BSS API at {self._http.base_url} is not reachable ({exc});"
                                            " is the stack up? try `bss up`"}) from exc
        if response.status_code == 204:
            return None
        if not response.content:
            body = None
        elif response.headers.get("content-type", "").startswith("text/"):
            body = response.text  # a rendered document (a bill's text), not a TMF resource
        else:
            body = response.json()
        if response.status_code >= 400:
            raise ApiError(response.status_code, body if isinstance(body, dict) else {"message": str(body)})
        return body

    def get(self, path: str, **params: Any) -> Any:
        """GET `path` with query parameters."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        """POST a JSON body."""
        return self.request("POST", path, json=body if body is not None else {})

    def patch(self, path: str, body: Any) -> Any:
        """PATCH (merge-patch) a JSON body."""
        return self.request("PATCH", path, json=body)

    def delete(self, path: str) -> Any:
        """DELETE a resource."""
        return self.request("DELETE", path)
