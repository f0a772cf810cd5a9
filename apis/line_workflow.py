"""A line's lifecycle workflow seen from outside: load the line, send it an update, read its refusal.

Shared by the subscription operations, TMF654 top-ups, TMF622 modify/delete orders and the worker's
order reconciler, so it carries no web framework: a refusal is a `PolicyViolation` with the rule code
the workflow gave, a line without a running workflow a 404 `workflow.not_found`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.catalog import get_offering, resolve_price
from core import clock, context
from core.db import get_engine
from core.errors import BssError, ExternalServiceError, NotFound, PolicyViolation
from domain.subscription import LIVE_STATES, subscription
from policies.base import violation
from workflows.subscription import CONTINUING, subscription_workflow_id

RULE_PREFIX = re.compile(r"^(?P<code>[a-z_]+(?:\.[a-z_<>]+)+): (?P<message>.*)$", re.DOTALL)
T = TypeVar("T")

# An order is closed `completed` in the transaction that creates its line, and the order workflow
# starts the line's workflow right after (workflows/order.py, the activate stage): a
# client acting on a brand-new line can arrive the few milliseconds before that workflow exists. A
# live line always gets one, so its absence is waited out, bounded, before answering 404.
LINE_WORKFLOW_GRACE_S = 2.0
LINE_WORKFLOW_POLL_S = 0.02
# A line that is continuing as new turns updates away for the moment it drains (workflows/subscription.py).
MOVING_RUN_GRACE_S = 35.0


class LineWorkflowGone(NotFound):
    """The line exists but no lifecycle workflow runs for it (never started, or ended after termination)."""

    def __init__(self, subscription_id: str) -> None:
        BssError.__init__(self, "workflow.not_found",
                          f"no lifecycle workflow is running for subscription {subscription_id}",
                          {"subscription_id": subscription_id,
                           "workflow_id": subscription_workflow_id(subscription_id)})


async def load_line_row(subscription_id: str) -> dict[str, Any]:
    """The subscription row, or 404 `subscription.not_found`."""
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(subscription).where(subscription.c.id == subscription_id))).mappings().first()
    if row is None:
        raise NotFound("subscription", subscription_id)
    return dict(row)


async def offering_facts(offering_id: str, code: str) -> tuple[str | None, bool]:
    """(kind, sellable now) of an offering; an unknown one is (None, False)."""
    try:
        kind = (await get_offering(offering_id)).kind.value
        await resolve_price(offering_id, clock.now(), code=code)
    except NotFound:
        return None, False
    except PolicyViolation:
        return kind, False
    return kind, True


def acting() -> dict[str, str]:
    """Who asks, as a workflow update names them: the request context's actor, channel and identity."""
    ctx = context.current()
    return {"actor": ctx.actor, "channel": ctx.channel, "service_identity": ctx.service_identity}


def refusal(exc: WorkflowUpdateFailedError) -> tuple[str, str]:
    """The rule code and message of a refused update (validator: `<code>: …`; handler: typed)."""
    code, message, cause = "subscription.update.failed", str(exc), exc.cause
    while cause is not None:
        if isinstance(cause, ApplicationError):
            message = cause.message
            if cause.type and "." in cause.type:
                code = cause.type
            if (found := RULE_PREFIX.match(cause.message)) is not None:
                code, message = found["code"], found["message"]
            break
        cause = cause.__cause__
    return code, message


async def on_line_workflow(subscription_id: str, call: Callable[[], Awaitable[T]]) -> T:
    """Run `call` on the line's workflow; wait out a live line's workflow being started, else 404."""
    deadline = time.monotonic() + LINE_WORKFLOW_GRACE_S
    while True:
        try:
            return await call()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            if time.monotonic() >= deadline or (await load_line_row(subscription_id))["state"] not in LIVE_STATES:
                raise LineWorkflowGone(subscription_id) from exc
        await asyncio.sleep(LINE_WORKFLOW_POLL_S)


async def send(temporal: Client, subscription_id: str, update: Any, arg: Any, update_id: str | None = None) -> Any:
    """Run a workflow update on the line and map its refusal (422) or absence (404)."""
    handle = temporal.get_workflow_handle(subscription_workflow_id(subscription_id))
    deadline = time.monotonic() + MOVING_RUN_GRACE_S
    while True:
        try:
            return await on_line_workflow(subscription_id, lambda: handle.execute_update(update, arg, id=update_id))
        except WorkflowUpdateFailedError as exc:
            code, message = refusal(exc)
            if code == CONTINUING and time.monotonic() < deadline:
                await asyncio.sleep(LINE_WORKFLOW_POLL_S)  # the line is continuing as new: the next run takes it
                continue
            raise PolicyViolation(violation(code, message, subscription_id=subscription_id)) from exc
        except RPCError as exc:
            raise ExternalServiceError("temporal.unavailable", f"Temporal refused the update: {exc}") from exc
