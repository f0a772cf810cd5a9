"""Money rule codes no other test asserted through the real stack (issue #17): an order whose card the
gateway keeps failing ends failed, and the order a client reads back says why."""

from __future__ import annotations

from tests.support.factories import GATEWAY_ERROR, ready_customer
from tests.workflows.order_helpers import money_for, place_order, wait_order


async def test_an_order_whose_gateway_keeps_erroring_fails_with_the_gateway_unavailable(seeded_api, seeded_db):
    customer = await ready_customer(seeded_api, card=GATEWAY_ERROR)
    order = await place_order(seeded_api, customer, offering_id="PLAN_S")
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "failed", done
    reasons = " ".join(note["text"] for note in done.get("note", []))
    assert "payment.gateway.unavailable" in reasons, done
    assert (await money_for(seeded_db, order["id"]))["charged"] == 0
