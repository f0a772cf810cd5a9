"""Scenario time: read the stack's business clock, and move it forward on a time-skipping stack."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from core.durations import parse_duration
from core.scopes import Scope
from operations.registry import Client, Input, NoInput, operation

CLOCK = "/ops-api/v1/clock"



@operation("clock.now", scope=Scope.CLOCK_READ, routes=[f"GET {CLOCK}"])
def now(client: Client, args: NoInput) -> Any:
    """Show business time as the API sees it, the wall clock under it and the scenario offset."""
    return client.request("GET", CLOCK)


class Advance(Input):
    """How far to move the clock, and how long to wait for the workflows."""

    duration: str = Field(min_length=2, max_length=40, description="How far to move: 30d, 12h, 90m, 1d12h.")
    timeout: float = Field(default=60.0, ge=1, le=600,
                           description="Seconds to wait for every open workflow to catch up.")

    @field_validator("duration")
    @classmethod
    def _is_duration(cls, value: str) -> str:
        parse_duration(value)
        return value


@operation("clock.advance", scope=Scope.OPS_CLOCK, routes=[f"POST {CLOCK}/advance"], arguments=("duration",))
def advance(client: Client, args: Advance) -> Any:
    """Move the stack clock forward; every open workflow is fast-forwarded by as much, so timers fire once."""
    return client.request("POST", f"{CLOCK}/advance", json={"duration": args.duration,
                                                             "timeoutSeconds": args.timeout})
