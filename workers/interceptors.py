"""Map our errors once at the activity edge: business refusals stop, outside failures retry."""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from core.errors import BssError


class _ErrorMapping(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:  # noqa: A002 - SDK signature
        try:
            return await super().execute_activity(input)
        except BssError as exc:
            # The rule code becomes the failure type, so workflows and operators see
            # `inventory.msisdn.pool_exhausted`, not a stack trace; retrying a refusal can't help.
            raise ApplicationError(exc.message, {"code": exc.code, "context": exc.context},
                                   type=exc.code, non_retryable=not exc.retryable) from exc


class BssErrorInterceptor(Interceptor):
    """Worker interceptor turning `BssError`s into typed `ApplicationError`s."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:  # noqa: A002
        return _ErrorMapping(next)
