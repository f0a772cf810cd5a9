"""The Temporal client factory: env config + pydantic data converter + tracing interceptor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfig

from core.settings import Settings, get_settings
from core.temporal_tracing import BssTracingInterceptor

if TYPE_CHECKING:
    from temporalio.testing import TimeSkipper


def client_interceptors() -> list[Interceptor]:
    """Interceptors shared by clients, workers (inherited) and replayers."""
    return [BssTracingInterceptor()]


async def connect(settings: Settings | None = None) -> Client:
    """Connect to the configured Temporal frontend and namespace.

    TLS, API keys and gRPC metadata come from Temporal's own env config (`TEMPORAL_TLS*`,
    `TEMPORAL_API_KEY`, profiles); address and namespace come from our settings so the
    supervisor and the processes it starts always agree.
    """
    settings = settings or get_settings()
    cfg = ClientConfig.load_client_connect_config()
    cfg["target_host"] = settings.temporal_target
    cfg["namespace"] = settings.temporal_namespace
    return await Client.connect(**cfg, data_converter=pydantic_data_converter,
                                interceptors=client_interceptors())


def scenario_skipper(client: Client) -> TimeSkipper:
    """How a time-skipping stack starts its workflows: no auto-skip (an idle one must not race to its next
    timer) and no propagation to children; `bss clock advance` moves them with `fast_forward` (DESIGN.md §6)."""
    # Imported here: the CLI's `bss workflow` and `db reset` connect through this module and never skip time.
    from temporalio.testing import TimeSkipper, TimeSkippingConfig

    return TimeSkipper(client, config=TimeSkippingConfig(enabled=False, disable_propagation=True))
