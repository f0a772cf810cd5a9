"""The two profiles: the operator's every operation; the customer's own-account operations, none of which
takes a customer id, every call bound to the customer (another customer's id answers not found)."""

from __future__ import annotations

import json

import pytest

from agent.events import EventKind
from agent.profiles import CUSTOMER_OPERATIONS, profile
from agent.runtime import run_turn
from agent.scripted import ScriptedModel
from operations.registry import load_all
from tests.agent.conftest import turn
from tests.api.test_product_inventory import active_line

LINE = "/tmf-api/productInventory/v4/product"


def test_the_operator_has_every_operation_and_destructive_or_charging_ones_need_a_confirm():
    operator = profile("operator")
    registry = {name: op for name, op in load_all().items() if op.domain not in ("agent", "operator")}
    # Every operation but the agent's own session bookkeeping, which the runtime writes itself, and console logins.
    assert {spec.op.name for spec in operator.specs.values()} == set(registry)
    assert not any(spec.op.name.startswith(("agent.", "operator.")) for spec in operator.specs.values())
    assert {spec.op.name for spec in operator.specs.values() if spec.confirm} == {
        name for name, op in registry.items() if op.destructive or op.charges}
    assert {"subscription.terminate", "payment.refund", "payment.charge", "subscription.vas"} <= {
        spec.op.name for spec in operator.specs.values() if spec.confirm}
    assert all(spec.schema is spec.op.input and spec.name == spec.op.tool_name for spec in operator.specs.values())


def test_no_customer_tool_takes_a_customer_id():
    customer = profile("customer")
    assert 14 <= len(customer.specs) <= 18 and {s.op.name for s in customer.specs.values()} == set(CUSTOMER_OPERATIONS)
    for spec in customer.specs.values():
        schema = json.dumps(spec.schema.model_json_schema())
        assert "customer_id" not in schema and "include_all" not in schema, spec.name
    assert {s.op.name for s in customer.specs.values() if s.confirm} == {"subscription.terminate", "subscription.vas"}
    assert profile("customer").spec("customer__list") is None  # not offered at all


def test_the_customer_profile_needs_its_customer():
    with pytest.raises(ValueError, match="bound customer"):
        run_turn("hi", profile="customer", model=ScriptedModel([]))
    with pytest.raises(ValueError, match="unknown profile"):
        profile("admin")


async def test_customer_calls_are_bound_to_the_customer(seeded_api):
    mine, my_line = await active_line(seeded_api)
    theirs, their_line = await active_line(seeded_api)
    events = []
    model = ScriptedModel([
        {"tool": "customer.show", "args": {}},
        {"tool": "customer.show", "args": {"customer_id": theirs}},   # not in the schema: the bound id wins
        {"tool": "subscription.list", "args": {}},
        {"tool": "subscription.show", "args": {"subscription_id": their_line}},
        {"say": "Here is your account."},
    ])
    result = await turn("my account", model=model, events=events, profile="customer", customer_id=mine)
    me, me_again, lines, foreign = result.tool_calls
    assert me.error is None and me_again.result == me.result
    assert mine in json.dumps(me.result) and theirs not in json.dumps(me_again.result)
    assert [line["id"] for line in lines.result] == [my_line]
    assert foreign.error["code"] == "subscription.not_found" and foreign.result is None
    assert theirs not in json.dumps([m.content for m in model.received[-1] if m.type == "tool"])
    # The customer's answer is shown once it is final (the rails may refuse it): one token, not a stream.
    assert [e.text for e in events if e.kind == EventKind.TOKEN] == ["Here is your account."]


async def test_a_customer_terminating_a_line_must_confirm(seeded_api):
    mine, my_line = await active_line(seeded_api)
    step = {"tool": "subscription.terminate", "args": {"subscription_id": my_line}}
    model = ScriptedModel([step])
    proposed = await turn("cancel my line", model=model, profile="customer", customer_id=mine)
    assert proposed.proposal.operation == "subscription.terminate"
    assert '"message":"waiting for the customer\'s confirm"' in model.received[1][-1].content
    assert (await seeded_api.get(f"{LINE}/{my_line}")).json()["status"] == "active"
    done = await turn("yes", [{"say": "Your line is terminated."}], session_id=proposed.session_id,
                      profile="customer", customer_id=mine, confirm=True)
    assert done.tool_calls[0].error is None and done.answer == "Your line is terminated."
    assert (await seeded_api.get(f"{LINE}/{my_line}")).json()["status"] != "active"


async def test_a_session_stays_with_its_customer(seeded_api):
    mine, _ = await active_line(seeded_api)
    first = await turn("hi", [{"say": "hello"}], profile="customer", customer_id=mine)
    with pytest.raises(ValueError, match="another customer"):
        await turn("hi", [{"say": "hello"}], profile="customer", customer_id="CUST-999999", session_id=first.session_id)
    with pytest.raises(ValueError, match="not operator"):
        await turn("hi", [{"say": "hello"}], session_id=first.session_id)


async def test_a_customer_buying_an_add_on_confirms_the_charge(seeded_api):
    mine, my_line = await active_line(seeded_api)
    step = {"tool": "subscription.vas", "args": {"subscription_id": my_line, "offering": "VAS_DATA_1GB"}}
    proposed = await turn("1 GB more please", [step], profile="customer", customer_id=mine)
    assert proposed.proposal.operation == "subscription.vas" and not proposed.tool_calls
    bought = await turn("yes", [{"say": "Added."}], session_id=proposed.session_id, profile="customer",
                        customer_id=mine, confirm=True)
    (call,) = bought.tool_calls
    assert call.error is None and "VAS_DATA_1GB" in json.dumps(call.result) and bought.answer == "Added."
