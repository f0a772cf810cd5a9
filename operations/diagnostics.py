"""Diagnostics operations: prove the write path (API → Temporal → worker → database) end to end."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.scopes import Scope
from operations.registry import Client, Input, operation

PING = "/bss-api/v1/diagnostics/ping"


class Ping(Input):
    """What the ping carries."""

    note: str = Field(default="", max_length=200, description="A note recorded with the ping.")


@operation("diagnostics.ping", scope=Scope.OPS_DIAGNOSTICS, routes=[f"POST {PING}"])
def ping(client: Client, args: Ping) -> Any:
    """Run a ping through Temporal and a worker into the database; show its ids and trace."""
    return client.request("POST", PING, json={"note": args.note})
