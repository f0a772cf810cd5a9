"""Diagnostic activities: write one audited row so a ping proves the whole write path."""

from __future__ import annotations

from temporalio import activity

from activities.uow import unit_of_work
from core.telemetry import current_trace_id
from domain.diagnostics import PingInput, PingResult


@activity.defn(name="record_ping")
async def record_ping(ping: PingInput) -> PingResult:
    """Record a diagnostic ping as an audit event and return its row id."""
    async with unit_of_work() as uow:
        uow.record("diagnostics.ping.recorded", "ping", ping.ping_id, {"note": ping.note})
    return PingResult(ping_id=ping.ping_id, event_id=uow.event_ids[0], trace_id=current_trace_id())
