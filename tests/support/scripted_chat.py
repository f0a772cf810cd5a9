"""What the chat tests of both portals share: a scripted model for every turn, and a blocked line to fix."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from agent.scripted import ScriptedModel
from core.api_client import BssClient
from operations import usage
from portals import chat
from tests.api.test_product_inventory import PRODUCTS, active_line, chars


def script(*steps: Any) -> ScriptedModel:
    """One scripted model for every turn of the test (its moves play across the turns); `chat.use_model(None)` undoes it."""
    model = ScriptedModel(list(steps))
    chat.use_model(lambda session_id: model)
    return model


async def blocked_line(api: httpx.AsyncClient, api_url: str) -> tuple[str, str]:
    """A customer whose PLAN_S line used its whole 5 GB and is blocked: (customer, line)."""
    customer, line = await active_line(api, "PLAN_S")
    msisdn = chars((await api.get(f"{PRODUCTS}/{line}")).json())["msisdn"]

    def use_it_all() -> None:
        with BssClient(surface="cli", base_url=api_url) as client:
            usage.simulate(client, msisdn=msisdn, usage_type="data", quantity="5GB")

    await asyncio.to_thread(use_it_all)
    assert chars((await api.get(f"{PRODUCTS}/{line}")).json())["blockedReason"] == "data_exhausted"
    return customer, line
