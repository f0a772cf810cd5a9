"""Durability: SIGKILL the worker process mid-order; a new worker finishes it, charging once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

from tests.support.factories import ready_customer
from tests.workflows.order_helpers import money_for, place_order, rows, set_fault, wait_order, wait_step


def _spawn_worker(env: dict[str, str], log_path) -> subprocess.Popen:  # noqa: ANN001
    return subprocess.Popen([sys.executable, "-m", "workers.main"], env=env, stdout=open(log_path, "ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)


async def test_killed_worker_mid_order_completes_with_one_charge(seeded_api, seeded_db, worker, temporal_env,
                                                                  tmp_path):
    await worker.pause()  # only the worker process below may run this order
    env = os.environ | {
        "BSS_DATABASE_URL": seeded_db.url.render_as_string(hide_password=False),
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": temporal_env.client.namespace,
        "BSS_HOME": str(tmp_path), "BSS_SPAN_STORE_ENABLED": "false",
    }
    log = tmp_path / "worker.log"
    first = _spawn_worker(env, log)
    try:
        # The SM-DP+ answers slowly, so the order is surely inside provisioning when the worker dies.
        await set_fault(seeded_api, "ESIM_PROFILE_PREPARE", "slow", slowMs=3000)
        customer = await ready_customer(seeded_api)
        order = await place_order(seeded_api, customer)
        await wait_step(seeded_db, order["id"], "PROVISIONING", timeout=90)
        await asyncio.sleep(0.5)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        assert first.returncode == -signal.SIGKILL
        second = _spawn_worker(env, log)
        try:
            done = await wait_order(seeded_api, order["id"], timeout=120)
        finally:
            second.terminate()
            second.wait(timeout=20)
    finally:
        if first.poll() is None:
            first.kill()
    assert done["state"] == "completed", (done, log.read_text()[-3000:])
    assert await money_for(seeded_db, order["id"]) == {"charged": 2500, "charges": 1, "refunded": 0}
    attempts = await rows(seeded_db, "SELECT count(*) AS n FROM payment.payment WHERE reference = :o", o=order["id"])
    assert attempts[0]["n"] == 1, "the card was charged more than once"
