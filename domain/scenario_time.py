"""Scenario time (DESIGN.md §6): a stack-wide offset added to the wall clock, dev stacks only.

The offset lives in `audit.clock_offset` (one row). Each workflow gets the offset in force when
it started and stamps business times as `workflow.now() + offset`; `bss clock advance D` adds D
to the offset and fast-forwards every open workflow's virtual clock by D, so all agree on "now".
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel

# PostgreSQL NOTIFY channel: the payload is the new offset in seconds.
CHANNEL = "bss_clock_offset"
ROW_ID = 1


class ScenarioClock(BaseModel):
    """Handed to a workflow started on a time-skipping stack: the offset in force at its start."""

    offset: timedelta = timedelta(0)
