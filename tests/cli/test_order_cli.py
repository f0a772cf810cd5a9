"""`bss order …` and the line's cards through the real `bss` script, piped, against the real API and workers.

An order placed with `--wait` shows its progress on stderr, then the order tree and the eSIM
activation card on stdout, with no ANSI codes and the ICCID/IMSI masked; `--json` prints the API's
JSON; an ASCII-only stream gets ASCII boxes and bars; a declined card ends in a failed order with
its reason and exit 1.
"""

from __future__ import annotations

import json
import re

import pytest

from simulators import network
from tests.support.factories import DECLINE, ready_customer
from tests.support.piped import assert_plain, run_bss
from tests.workflows.order_helpers import ORDERS, place_order, rows, wait_order, wait_step
from workflows import queues


@pytest.fixture(autouse=True)
def fast_network(monkeypatch):
    monkeypatch.setattr(network, "latency_scale", 0.01)


async def test_order_wait_shows_progress_then_the_tree_and_the_esim_card(seeded_api):
    customer = await ready_customer(seeded_api)
    result = await run_bss("order", "create", "--customer", customer, "--offering", "PLAN_M", "--wait")
    out, err = assert_plain(result), result.stderr.decode()
    assert result.returncode == 0, (out, err)
    order_id = re.search(r"order (ORD-\d+)", out).group(1)
    assert f"{order_id} → COMPLETED" in err  # the progress lines went to stderr, one per step seen
    tree = (await seeded_api.get(f"/bss-api/v1/order/{order_id}/tree")).json()
    sub_id = tree["order"]["subscriptionId"]
    for text in ("╭", "service order", "HLR_PROVISION", "ESIM_PROFILE_PREPARE", f"eSIM activation · {sub_id}",
                 "▄", "LPA:1$"):
        assert text in out, text
    esim = (await seeded_api.get(f"/bss-api/v1/subscription/{sub_id}/esim")).json()
    assert esim["iccid"] not in out and esim["imsi"] not in out and esim["iccid"][-4:] in out

    shown = await run_bss("order", "show", order_id, "--json")
    assert json.loads(shown.stdout) == (await seeded_api.get(f"{ORDERS}/{order_id}")).json()
    listed = json.loads((await run_bss("order", "list", "--customer", customer, "--json")).stdout)
    assert [o["id"] for o in listed] == [order_id]

    line = await run_bss("subscription", "show", sub_id, NO_COLOR="1")
    text = assert_plain(line)
    assert line.returncode == 0 and "█" in text and "30 GB left of 30 GB" in text
    ascii_line = await run_bss("subscription", "show", sub_id, PYTHONIOENCODING="ascii")
    assert ascii_line.returncode == 0 and ascii_line.stdout.isascii(), ascii_line.stdout
    assert "+-" in ascii_line.stdout.decode() and "####" in ascii_line.stdout.decode()
    ascii_esim = await run_bss("subscription", "esim", sub_id, PYTHONIOENCODING="ascii")
    assert ascii_esim.stdout.isascii() and "needs a UTF-8 terminal" in ascii_esim.stdout.decode()


async def test_a_declined_card_ends_in_a_failed_order_with_its_reason(seeded_api):
    customer = await ready_customer(seeded_api, card=DECLINE)
    result = await run_bss("order", "create", "--customer", customer, "--offering", "PLAN_S", "--wait")
    out = assert_plain(result)
    assert result.returncode == 1, out
    assert "failed" in out and "payment.declined" in out and "ended before provisioning" in out
    assert "eSIM activation" not in out
    as_json = await run_bss("order", "create", "--customer", customer, "--offering", "PLAN_S", "--wait", "--json")
    body = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and body["state"] == "failed" and "@type" in body


async def test_cancel_asks_then_the_tree_shows_the_cancelled_order_and_its_reason(seeded_api, seeded_db, worker, bss):
    # Hold the flow at the charge (no payments worker) so the cancel lands before provisioning.
    await worker.pause(queues.PAYMENTS)
    customer = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer)
    await wait_step(seeded_db, order["id"], "RESERVED")
    kept = await bss("order", "cancel", order["id"], input="n\n")
    assert kept.exit_code == 1 and (await seeded_api.get(f"{ORDERS}/{order['id']}")).json()["state"] != "cancelled"
    accepted = await bss("order", "cancel", order["id"], "--yes", "--reason", "changed mind [call 2]")
    assert accepted.exit_code == 0 and f"cancellation of {order['id']} accepted" in accepted.stdout
    worker.start(queues.PAYMENTS)
    assert (await wait_order(seeded_api, order["id"]))["state"] == "cancelled"
    tree = await bss("order", "show", order["id"])
    assert tree.exit_code == 0, tree.output
    for text in ("cancelled", "changed mind [call 2]", "(released)", "step CANCELLED"):
        assert text in tree.stdout, text
    late = await bss("order", "cancel", order["id"], "--yes", "--json")
    assert late.exit_code == 2 and json.loads(late.stdout)["code"] == "order.transition.invalid"


async def test_order_create_changes_a_lines_plan_and_terminates_it_as_product_orders(seeded_api, seeded_db):
    from tests.api.test_usage import active_line

    line, _ = await active_line(seeded_api, seeded_db, "PLAN_S")
    unnamed = await run_bss("order", "create", "--action", "modify", "--offering", "PLAN_L")
    assert unnamed.returncode != 0 and "names the --line it acts on" in unnamed.stderr.decode(), unnamed
    modified = await run_bss("order", "create", "--action", "modify", "--line", line, "--offering", "PLAN_L", "--wait")
    out = assert_plain(modified)
    assert modified.returncode == 0, (out, modified.stderr.decode())
    order_id = re.search(r"order (ORD-\d+)", out).group(1)
    assert "eSIM activation" not in out  # no new line, no activation card
    shown = (await seeded_api.get(f"{ORDERS}/{order_id}")).json()
    assert (shown["state"], shown["productOrderItem"][0]["action"]) == ("completed", "modify")
    (row,) = await rows(seeded_db, "SELECT state, pending_offering_id FROM subscription.subscription WHERE id = :s",
                        s=line)
    assert row == {"state": "active", "pending_offering_id": "PLAN_L"}

    ended = await run_bss("order", "create", "--action", "delete", "--line", line, "--json")
    body = json.loads(ended.stdout)
    assert ended.returncode == 0 and (body["state"], body["productOrderItem"][0]["action"]) == ("completed", "delete")
    (row,) = await rows(seeded_db, "SELECT state FROM subscription.subscription WHERE id = :s", s=line)
    assert row["state"] == "terminated"
