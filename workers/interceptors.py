"""The activity edge, once for every activity: who is acting, and how our errors map to Temporal's."""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from core import context
from core.context import RequestContext
from core.errors import BssError


class _ErrorMapping(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        # Writes made for a workflow are the system's, on the channel of the flow that asked for them.
        ctx = RequestContext(actor="system", channel=f"system:{activity.info().workflow_type}",
                             service_identity="system")
        try:
            with context.acting_as(ctx):
                return await super().execute_activity(input)
        except BssError as exc:
            # The rule code becomes the failure type, so workflows and operators see
            # `inventory.msisdn.pool_exhausted`, not a stack trace; retrying a refusal can't help.
            raise ApplicationError(exc.message, {"code": exc.code, "context": exc.context},
                                   type=exc.code, non_retryable=not exc.retryable) from exc


class BssErrorInterceptor(Interceptor):
    """Worker interceptor binding the system context and turning `BssError`s into typed failures."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ErrorMapping(next)
