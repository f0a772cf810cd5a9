"""`bss up --api-procs 2 --workers 2`: two API servers, payments polled by a worker process of its own.

One private stack (own BSS_HOME, free ports) started by the real `bss` console script: an order
completes end to end, Temporal sees the payments queue polled only by `worker:payments` and the
orders queue only by `worker`, a payments worker killed by `bss restart --kill` comes back with
the same layout, and `bss down` leaves no process behind.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import httpx
import psutil
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from cli.stack.procs import gone
from tests.support.factories import order_body, ready_customer
from tests.support.stack import BSS, Stack, running_stack

ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"


async def _poller_pids(stack: Stack, queue: str) -> set[int]:
    """Pids of the processes polling `queue` for activities (the SDK's identity is `pid@host`)."""
    client = await Client.connect(f"127.0.0.1:{stack.env['BSS_TEMPORAL_PORT']}", namespace="bss")
    described = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
        namespace="bss", task_queue=TaskQueue(name=queue), task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY))
    return {int(p.identity.split("@", 1)[0]) for p in described.pollers}


async def _order_completes(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30,
                                 headers={"X-BSS-API-Token": stack.token()}) as api:
        customer = await ready_customer(api)
        order = await api.post(ORDERS, json=order_body(customer, "PLAN_S"))
        assert order.status_code == 201, order.text
        deadline = time.monotonic() + 30
        while (state := (await api.get(f"{ORDERS}/{order.json()['id']}")).json()["state"]) != "completed":
            assert state not in ("failed", "cancelled") and time.monotonic() < deadline, state
            await asyncio.sleep(0.1)


def test_two_api_and_two_worker_processes_serve_an_order_and_stop(tmp_path: Path) -> None:
    with running_stack(tmp_path, "--api-procs", "2", "--workers", "2") as stack:
        # The reference data loads while the processes are looked at (the seed is seconds of CPU).
        seed = subprocess.Popen([str(BSS), "seed"], env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        code, rows = stack.status()
        assert code == 0, rows
        assert {"api", "worker", "worker:payments"} <= set(rows) and all(
            r["health"] == "healthy" for r in rows.values()), rows
        assert rows["api"]["procs"] == 2, rows["api"]  # the forked second server
        assert seed.wait(timeout=120) == 0, seed.stderr.read() if seed.stderr else ""
        asyncio.run(_order_completes(stack))
        pids = {name: row["pid"] for name, row in rows.items()}
        assert asyncio.run(_poller_pids(stack, "bss-payments")) == {pids["worker:payments"]}
        assert asyncio.run(_poller_pids(stack, "bss-orders")) == {pids["worker"]}

        # The chaos helper's entry point: kill one worker process hard, the same layout comes back.
        restarted = stack.bss_json("restart", "worker:payments", "--kill")
        code, after = stack.status()
        assert code == 0 and set(after) == set(rows), after
        # Gone, or a zombie no one reaps yet (the stack's processes are orphans of the bss that started them).
        assert _gone(pids["worker:payments"])
        assert after["worker:payments"]["pid"] == restarted["started"]["worker:payments"] != pids["worker:payments"]
        assert {n: after[n]["pid"] for n in after if n != "worker:payments"} == {
            n: p for n, p in pids.items() if n != "worker:payments"}

        # `bss up` without options (what brings a killed component back) keeps the scale the stack runs with.
        assert stack.bss("up").returncode == 0
        assert {n: r["pid"] for n, r in stack.status()[1].items()} == {n: r["pid"] for n, r in after.items()}

        everything = [p for row in after.values() for p in _tree(row["pid"])]
        down = stack.bss("down")
        assert down.returncode == 0, down.stderr
        assert not [p for p in everything if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not list((stack.home / "run").glob("*.pid"))


def _tree(pid: int) -> list[psutil.Process]:
    proc = psutil.Process(pid)
    return [proc, *proc.children(recursive=True)]


def _gone(pid: int) -> bool:
    """True when `pid` exited, a zombie included (nothing may reap the stack's orphaned processes yet)."""
    try:
        return gone(psutil.Process(pid))
    except psutil.NoSuchProcess:
        return True
