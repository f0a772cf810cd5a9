"""An order is never marked failed while its workflow may run: faults on the start, over real HTTP and Temporal.

The faults sit in a Temporal client interceptor of a second API app on the same dev server; the
workers (session pool) and every other call use the untouched client, so the order really runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from temporalio.client import (
    Client,
    DescribeWorkflowInput,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowExecutionDescription,
    WorkflowHandle,
)
from temporalio.service import RPCError, RPCStatusCode

from apis.app import create_app
from tests.conftest import client_for
from tests.support.factories import order_body, ready_customer
from tests.support.http import serve
from tests.workflows.order_helpers import ORDERS, money_for, rows, wait_order
from workflows.order import order_workflow_id

EVERY = -1  # fail every call, not only the first ones


@dataclass
class StartFaults(Interceptor):
    """Faults on order starts: answers lost after the server took the start, starts refused, describe failing."""

    lose_answers: int = 0  # starts that reach the server, whose answer is then lost
    refuse: int = 0  # starts that fail before reaching the server (EVERY: all of them)
    describe_fails: bool = False
    starts: int = 0
    describes: int = 0

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        """Put the faults in front of the real client."""
        return _FaultyOutbound(next, self)


class _FaultyOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, faults: StartFaults) -> None:
        super().__init__(next)
        self.faults = faults

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        f = self.faults
        if not input.id.startswith("order-"):
            return await self.next.start_workflow(input)
        f.starts += 1
        if f.refuse:
            if f.refuse > 0:
                f.refuse -= 1
            raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")
        handle = await self.next.start_workflow(input)
        if f.lose_answers:
            f.lose_answers -= 1
            raise RPCError("deadline exceeded", RPCStatusCode.DEADLINE_EXCEEDED, b"")
        return handle

    async def describe_workflow(self, input: DescribeWorkflowInput) -> WorkflowExecutionDescription:
        self.faults.describes += 1
        if self.faults.describe_fails:
            raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")
        return await self.next.describe_workflow(input)


@pytest_asyncio.fixture
async def faulty_api(temporal_env, seeded_db, worker) -> AsyncIterator[Any]:
    """Serve a second API whose Temporal client carries `StartFaults`; yield a factory of its clients."""
    servers = []

    async def start(faults: StartFaults) -> httpx.AsyncClient:
        config = temporal_env.client.config()  # the same server, converter and interceptors, plus the faults
        client = Client(**{**config, "interceptors": [*config["interceptors"], faults]})
        server = serve(create_app(temporal_client=client))
        servers.append(server)
        return client_for(await server.__aenter__())

    yield start
    for server in reversed(servers):
        await server.__aexit__(None, None, None)


async def _order_row(db, order_id: str) -> dict:
    (row,) = await rows(db, "SELECT state, step, msisdn, iccid, payment_id, failure_reason "
                            "FROM ordering.product_order WHERE id = :o", o=order_id)
    return row


async def _completes_with_one_charge(api: httpx.AsyncClient, db, order_id: str) -> None:
    done = await wait_order(api, order_id)
    assert done["state"] == "completed", done
    approved = await rows(db, "SELECT count(*) AS n FROM payment.payment WHERE reference = :o AND status = "
                              "'approved'", o=order_id)
    assert approved[0]["n"] == 1


async def test_a_start_whose_answer_is_lost_is_found_running_and_the_order_completes(seeded_api, faulty_api, seeded_db):
    customer = await ready_customer(seeded_api)
    faults = StartFaults(lose_answers=1)
    async with await faulty_api(faults) as faulty:
        response = await faulty.post(ORDERS, json=order_body(customer))
    assert response.status_code == 201, response.text
    order_id = response.json()["id"]
    # Found by describe: no second start was needed, and the order was never failed.
    assert (faults.starts, faults.describes) == (1, 1)
    assert (await _order_row(seeded_db, order_id))["state"] != "failed"
    await _completes_with_one_charge(seeded_api, seeded_db, order_id)


async def test_a_start_refused_once_is_retried_and_the_order_completes(seeded_api, faulty_api, seeded_db):
    customer = await ready_customer(seeded_api)
    faults = StartFaults(refuse=1)
    async with await faulty_api(faults) as faulty:
        response = await faulty.post(ORDERS, json=order_body(customer))
    assert response.status_code == 201, response.text
    assert (faults.starts, faults.describes) == (2, 1)  # describe said NOT_FOUND, the second start took
    await _completes_with_one_charge(seeded_api, seeded_db, response.json()["id"])


async def test_an_order_that_never_started_ends_failed_with_nothing_reserved_or_charged(
        seeded_api, faulty_api, seeded_db, temporal_env):
    customer = await ready_customer(seeded_api)
    faults = StartFaults(refuse=EVERY)
    async with await faulty_api(faults) as faulty:
        response = await faulty.post(ORDERS, json=order_body(customer, external_id="never-starts"))
    assert response.status_code == 503, response.text
    error = response.json()
    assert error["code"] == "temporal.unavailable" and "could not start" in error["message"]
    order_id = error["context"]["orderId"]
    assert faults.starts == faults.describes > 1  # every start was checked, and retried while NOT_FOUND
    row = await _order_row(seeded_db, order_id)
    assert row["state"] == "failed" and row["failure_reason"].startswith("orchestration.unavailable")
    assert (row["msisdn"], row["iccid"], row["payment_id"]) == (None, None, None)
    held = await rows(seeded_db, "SELECT count(*) AS n FROM inventory.msisdn WHERE reserved_for = :o", o=order_id)
    assert held[0]["n"] == 0
    assert await money_for(seeded_db, order_id) == {"charged": 0, "charges": 0, "refunded": 0}
    with pytest.raises(RPCError) as gone:
        await temporal_env.client.get_workflow_handle(order_workflow_id(order_id)).describe()
    assert gone.value.status == RPCStatusCode.NOT_FOUND


async def test_when_temporal_cannot_say_the_order_stays_acknowledged_and_a_retried_post_resumes_it(
        seeded_api, faulty_api, seeded_db):
    customer = await ready_customer(seeded_api)
    body = order_body(customer, external_id="signup-unknown-start")
    faults = StartFaults(refuse=EVERY, describe_fails=True)
    async with await faulty_api(faults) as faulty:
        response = await faulty.post(ORDERS, json=body)
    assert response.status_code == 503, response.text
    error = response.json()
    assert error["code"] == "temporal.unavailable" and "accepted but not started yet" in error["message"], error
    assert error["context"]["externalId"] == "signup-unknown-start"
    order_id = error["context"]["orderId"]
    assert (faults.starts, faults.describes) == (1, 1)  # unknown: neither retried blindly nor failed
    current = await seeded_api.get(f"{ORDERS}/{order_id}")
    assert current.json()["state"] == "acknowledged"

    retried = await seeded_api.post(ORDERS, json=body)  # the normal API: same externalId, same order, now started
    assert retried.status_code == 200, retried.text
    assert retried.json()["id"] == order_id
    await _completes_with_one_charge(seeded_api, seeded_db, order_id)
