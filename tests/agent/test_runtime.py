"""One agent turn against the real API with a scripted model: tool calls, refusals the model corrects,
proposals and their confirm, and the session's history."""

from __future__ import annotations

import json

from sqlalchemy import text

from agent.events import EventKind
from agent.scripted import ScriptedModel
from tests.agent.conftest import turn
from tests.api.test_product_inventory import active_line

LINE = "/tmf-api/productInventory/v4/product"


def tool_results(model: ScriptedModel) -> list[dict]:
    """The tool messages the model was handed on its last call, decoded."""
    return [json.loads(m.content) for m in model.received[-1] if m.type == "tool"]


async def test_a_tool_call_returns_the_apis_json_and_streams_the_answer(seeded_api, memory_sessions):
    _, sub = await active_line(seeded_api)
    events = []
    model = ScriptedModel([{"tool": "subscription.show", "args": {"subscription_id": sub}},
                           {"say": "The line is active."}])
    result = await turn("how is the line?", model=model, events=events)
    kinds = [e.kind for e in events]
    assert kinds[:2] == [EventKind.TOOL_START, EventKind.TOOL_END] and kinds[-1] == EventKind.FINAL
    assert "".join(e.text for e in events if e.kind == EventKind.TOKEN) == "The line is active."
    (call,) = result.tool_calls
    api = (await seeded_api.get(f"{LINE}/{sub}")).json()
    assert call.operation == "subscription.show" and call.error is None
    assert call.result["product"]["id"] == sub == api["id"] and call.result["product"]["status"] == "active"
    assert result.answer == "The line is active." and not result.stopped and result.tokens > 0 and result.cost_usd > 0
    assert tool_results(model)[0]["product"]["id"] == sub  # the model saw the same JSON
    history = memory_sessions.get(result.session_id).messages
    assert [m.type for m in history] == ["human", "ai", "tool", "ai"]
    # The next turn of the session starts from that history.
    follow = ScriptedModel([{"say": "Still active."}])
    again = await turn("and now?", model=follow, session_id=result.session_id)
    assert again.session_id == result.session_id
    assert [m.type for m in follow.received[0]] == ["system", "human", "ai", "tool", "ai", "human"]


async def test_a_policy_refusal_comes_back_with_its_rule_code_and_the_model_corrects_it(seeded_api, seeded_db):
    _, sub = await active_line(seeded_api, "PLAN_M")
    model = ScriptedModel([
        {"tool": "subscription.plan_change", "args": {"subscription_id": sub, "offering": "PLAN_M"}},
        {"tool": "subscription.plan_change", "args": {"subscription_id": sub, "offering": "PLAN_L"}},
        {"say": "PLAN_L from the next renewal."},
    ])
    result = await turn("move me to the large plan", model=model)
    refused, changed = result.tool_calls
    assert refused.error["code"] == "subscription.plan_change.same_offering" and refused.result is None
    assert refused.error["message"] and isinstance(refused.error["context"], dict)
    assert changed.error is None and "PLAN_L" in json.dumps(changed.result)
    # What the model was handed after the refusal: the structured error, not an exception.
    seen = json.loads(next(m for m in model.received[1] if m.type == "tool").content)
    assert seen == {"error": refused.error}
    assert result.answer == "PLAN_L from the next renewal." and not result.stopped
    # Every API call of the turn joined the turn's trace: the plan change's audit rows carry its id.
    async with seeded_db.connect() as conn:
        rows = (await conn.execute(text("SELECT event_type FROM audit.domain_event WHERE trace_id = :t"),
                                   {"t": result.trace_id})).scalars().all()
    assert len(result.trace_id) == 32 and rows, rows


async def test_arguments_the_schema_refuses_and_unknown_tools_are_errors_for_the_model(seeded_api):
    model = ScriptedModel([
        {"tool": "subscription.show", "args": {}},
        {"tool": "subscription.fly", "args": {"to": "moon"}},
        {"tool": "catalog.list", "args": {}},
        {"say": "done"},
    ])
    result = await turn("go", model=model)
    missing, unknown, listed = result.tool_calls
    assert missing.error["code"] == "agent.args.invalid"
    assert missing.error["context"]["errors"][0]["field"] == "subscription_id"
    assert unknown.error["code"] == "agent.tool.unknown" and "catalog__list" in unknown.error["context"]["tools"]
    assert unknown.operation == "subscription.fly"  # named as an operation, as every tool call event is
    assert listed.error is None and not result.stopped  # two failures in a row are not three


async def test_a_destructive_call_is_proposed_and_runs_only_after_the_confirm(seeded_api, memory_sessions):
    _, sub = await active_line(seeded_api)
    events = []
    model = ScriptedModel([{"tool": "subscription.terminate", "args": {"subscription_id": sub, "reason": "moving"}},
                           {"tool": "catalog.list", "args": {}, "say": "I propose terminating the line."},
                           {"say": "never reached"}])
    proposed = await turn("terminate the line", model=model, events=events)
    assert proposed.proposal is not None and proposed.proposal.operation == "subscription.terminate"
    assert proposed.proposal.args == {"subscription_id": sub, "reason": "moving"}
    # The model is told the call waits, says so in one more step (a tool it calls then is not run), and the turn ends.
    told = json.loads(next(m for m in model.received[1] if m.type == "tool").content)
    assert told == {"proposed": True, "operation": "subscription.terminate", "args": proposed.proposal.args,
                    "message": "waiting for the operator's /confirm"}
    assert proposed.answer == "I propose terminating the line." and len(model.received) == 2
    assert not proposed.tool_calls and not proposed.stopped
    assert [e.kind for e in events if e.kind in (EventKind.PROPOSAL, EventKind.TOOL_END)] == [EventKind.PROPOSAL]
    assert (await seeded_api.get(f"{LINE}/{sub}")).json()["status"] == "active"  # nothing written
    assert memory_sessions.get(proposed.session_id).pending.proposal == proposed.proposal

    nothing = await turn("", model=ScriptedModel([]), session_id="SES-none", confirm=True)
    assert nothing.answer == "there is no proposal to confirm" and not nothing.tool_calls

    events.clear()
    after = ScriptedModel([{"say": "The line is terminated."}])
    confirmed = await turn("", model=after, session_id=proposed.session_id, confirm=True, events=events)
    (call,) = confirmed.tool_calls
    assert call.operation == "subscription.terminate" and call.error is None
    assert (await seeded_api.get(f"{LINE}/{sub}")).json()["status"] != "active"
    assert confirmed.answer == "The line is terminated." and confirmed.proposal is None
    assert [m.type for m in after.received[0]][-3:] == ["human", "ai", "tool"]  # the call and its result
    assert memory_sessions.get(proposed.session_id).pending is None
    again = await turn("", model=ScriptedModel([]), session_id=proposed.session_id, confirm=True)
    assert again.answer == "there is no proposal to confirm"  # a confirm runs it once


async def test_a_new_message_lets_a_proposal_lapse_and_cancel_drops_it(seeded_api, memory_sessions):
    from agent.runtime import cancel

    _, sub = await active_line(seeded_api)
    step = {"tool": "subscription.terminate", "args": {"subscription_id": sub}}
    first = await turn("terminate", [step])
    lapsed = await turn("no wait, show it", [{"say": "ok"}], session_id=first.session_id)
    assert lapsed.proposal is None and memory_sessions.get(first.session_id).pending is None
    second = await turn("terminate", [step], session_id=first.session_id)
    assert cancel(second.session_id).operation == "subscription.terminate" and cancel(second.session_id) is None
    confirm = await turn("", model=ScriptedModel([]), session_id=second.session_id, confirm=True)
    assert confirm.answer == "there is no proposal to confirm"
    assert (await seeded_api.get(f"{LINE}/{sub}")).json()["status"] == "active"


async def test_a_client_fault_is_an_error_for_the_model_not_a_crash():
    class Broken:
        def request(self, method, path, **kwargs):
            raise OSError("disk on fire")

    result = await turn("hi", [{"tool": "catalog.show", "args": {"offering_id": "PLAN_M"}}, {"say": "sorry"}],
                        client=Broken())
    (call,) = result.tool_calls
    assert call.error == {"code": "agent.tool.failed", "message": "OSError: disk on fire", "context": {}}
    assert result.answer == "sorry" and not result.stopped and result.trace_id is None  # a given client: no trace


async def test_several_calls_in_one_step_all_run(seeded_api):
    step = {"calls": [{"tool": "catalog.show", "args": {"offering_id": "PLAN_M"}},
                      {"tool": "catalog.show", "args": {"offering_id": "PLAN_L"}}]}
    model = ScriptedModel([step, {"say": "two"}])
    result = await turn("compare", model=model)
    assert sorted(c.args["offering_id"] for c in result.tool_calls) == ["PLAN_L", "PLAN_M"]
    assert all(c.error is None for c in result.tool_calls) and len(model.received) == 2
