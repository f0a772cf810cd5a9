"""The rails hooks are called where agent/rails.py says, and their verdicts shape the turn (the trip-wire,
caps and escalation themselves are tested with their modules)."""

from __future__ import annotations

import sys
import types

from agent import rails as rails_module
from agent.events import EventKind
from agent.rails import ChainedRails, Rails, Stop
from agent.scripted import ScriptedModel
from tests.agent.conftest import turn


class Recording(Rails):
    def __init__(self, **verdicts):
        self.verdicts = verdicts
        self.calls = []
        self.results = []

    def before_turn(self, ctx, message):
        self.calls.append(("before_turn", message, ctx.profile, ctx.session_id))
        return self.verdicts.get("before_turn")

    def before_tool(self, ctx, operation, args):
        self.calls.append(("before_tool", operation))
        return self.verdicts.get("before_tool")

    def after_tool(self, ctx, operation, args, result):
        self.calls.append(("after_tool", operation))
        return self.verdicts.get("after_tool", result)

    def after_answer(self, ctx, text):
        self.calls.append(("after_answer", text))
        return self.verdicts.get("after_answer", text)

    def after_turn(self, ctx, result):
        self.calls.append(("after_turn",))
        self.results.append(result)


async def test_every_hook_is_called_in_order(seeded_api):
    rail = Recording()
    result = await turn("hi", [{"tool": "catalog.vas", "args": {}}, {"say": "three add-ons"}], rails=rail)
    assert [c[0] for c in rail.calls] == ["before_turn", "before_tool", "after_tool", "after_answer", "after_turn"]
    assert rail.calls[0][1:3] == ("hi", "operator") and rail.results == [result]


async def test_an_escalation_before_the_turn_answers_without_the_model(seeded_api):
    events = []
    stop = Stop(reason="escalation: bereavement", answer="I am sorry for your loss; case CASE-1 is open.",
                escalated="bereavement", case_id="CASE-1")
    model = ScriptedModel([{"say": "never"}])
    result = await turn("my father died", model=model, rails=Recording(before_turn=stop), events=events)
    assert model.received == [] and result.escalated == "bereavement" and result.answer == stop.answer
    (escalated,) = [e for e in events if e.kind == EventKind.ESCALATED]
    assert escalated.result == {"category": "bereavement", "case_id": "CASE-1"} and not result.stopped


async def test_a_stop_before_the_turn_is_a_stop(seeded_api):
    events = []
    result = await turn("hi", [{"say": "never"}], rails=Recording(before_turn=Stop("cap: 60 requests this hour")),
                        events=events)
    assert result.stopped == "cap: 60 requests this hour" == result.answer
    assert [e.kind for e in events] == [EventKind.STOPPED, EventKind.FINAL]


async def test_a_refused_result_never_reaches_the_model(seeded_api):
    events = []
    model = ScriptedModel([{"tool": "catalog.vas", "args": {}}, {"say": "never"}])
    stop = Stop("trip-wire: the result named another customer's MSISDN; refused and audited")
    result = await turn("hi", model=model, rails=Recording(after_tool=stop), events=events)
    (call,) = result.tool_calls
    assert call.result is None and call.error["code"] == "agent.refused" and result.stopped == stop.reason
    assert len(model.received) == 1  # the model was not called again with the result


async def test_a_rail_can_answer_for_a_tool_and_replace_an_answer(seeded_api):
    refusal = {"error": {"code": "agent.cap.exceeded", "message": "over the cap", "context": {}}}
    rail = Recording(before_tool=refusal, after_answer="[withheld]")
    model = ScriptedModel([{"tool": "catalog.vas", "args": {}}, {"say": "secret"}])
    result = await turn("hi", model=model, rails=rail)
    assert result.tool_calls[0].error == refusal["error"] and result.answer == "[withheld]"
    assert '"agent.cap.exceeded"' in model.received[1][-1].content


async def test_a_refused_customer_answer_is_never_streamed(seeded_api):
    from tests.api.test_product_inventory import active_line

    mine, _ = await active_line(seeded_api)
    events = []
    rail = Recording(after_answer=Stop("trip-wire: the answer named another customer", answer="I can't share that."))
    result = await turn("hi", [{"say": "CUST-000042 lives at …"}], rails=rail, profile="customer", customer_id=mine,
                        events=events)
    assert result.answer == "I can't share that." and result.stopped.startswith("trip-wire")
    assert all("CUST-000042" not in e.text for e in events)


def test_rails_are_found_in_their_modules(monkeypatch):
    module = types.ModuleType("agent_test_rail")
    module.rails = lambda: Recording()
    monkeypatch.setitem(sys.modules, "agent_test_rail", module)
    monkeypatch.setattr(rails_module, "RAIL_MODULES", ("agent_test_missing_rail", "agent_test_rail"))
    monkeypatch.setattr(rails_module, "_LOADED", None)
    found = rails_module.load_rails()
    assert isinstance(found, ChainedRails) and [type(r) for r in found.rails] == [Recording]
    monkeypatch.setattr(rails_module, "RAIL_MODULES", ("agent_test_missing_rail",))
    monkeypatch.setattr(rails_module, "_LOADED", None)
    assert type(rails_module.load_rails()) is Rails


async def test_a_proposals_words_pass_the_rails_and_a_refused_answer_is_never_stored(seeded_api, memory_sessions):
    rail = Recording(after_answer=Stop("trip-wire: the answer named another customer", answer="withheld"))
    steps = [{"tool": "subscription.terminate", "args": {"subscription_id": "SUB-000001"}},
             {"say": "I propose terminating CUST-000042's line."}]
    result = await turn("terminate", steps, rails=rail)
    assert result.proposal.operation == "subscription.terminate" and result.answer == "withheld"
    assert ("after_answer", "I propose terminating CUST-000042's line.") in rail.calls
    stored = memory_sessions.get(result.session_id).messages
    assert "CUST-000042" not in " ".join(str(m.content) for m in stored) and stored[-1].content == "withheld"
