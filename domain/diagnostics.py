"""Diagnostics: the ping flow that proves API → workflow → activity → database wiring."""

from pydantic import BaseModel


class PingInput(BaseModel):
    """Start a diagnostic ping."""

    ping_id: str
    note: str = ""


class PingResult(BaseModel):
    """What a completed ping recorded."""

    ping_id: str
    event_id: int
    trace_id: str | None
