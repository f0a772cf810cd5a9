"""Shared FastAPI dependencies (`Annotated` aliases used by every router)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client

from apis.temporal_gateway import TemporalGateway


async def _temporal(request: Request) -> Client:
    gateway: TemporalGateway = request.app.state.temporal
    return await gateway.client()


TemporalDep = Annotated[Client, Depends(_temporal)]
