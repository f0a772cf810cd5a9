"""The loop guards, each driven to its stop by a scripted model against the real API: steps, an identical
repeated call, three failures in a row, the token and the cost budget. Each stop says which guard and why."""

from __future__ import annotations

from agent.events import EventKind
from agent.guards import Guards
from agent.scripted import SCRIPT_ENDED, ScriptedModel
from core.settings import get_settings
from tests.agent.conftest import turn


def stopped_events(events: list) -> list[str]:
    return [e.reason for e in events if e.kind == EventKind.STOPPED]


async def test_a_turn_takes_at_most_twelve_model_steps(seeded_api):
    events = []
    steps = [{"tool": "customer.list", "args": {"limit": n}} for n in range(1, 20)]
    model = ScriptedModel(steps)
    result = await turn("list forever", model=model, events=events)
    assert len(model.received) == 12 and len(result.tool_calls) == 12
    assert all(call.error is None for call in result.tool_calls)
    assert result.stopped.startswith("steps: ") and "12 model steps" in result.stopped
    assert stopped_events(events) == [result.stopped] and events[-1].kind == EventKind.FINAL


async def test_the_same_call_twice_stops_the_turn_before_it_runs_again(seeded_api, memory_sessions):
    events = []
    step = {"tool": "catalog.show", "args": {"offering_id": "PLAN_M"}}
    result = await turn("show", [step, {**step, "say": "again"}, {"say": "never"}], events=events)
    assert len(result.tool_calls) == 1 and [e.kind for e in events].count(EventKind.TOOL_START) == 1
    assert result.stopped.startswith("repeat: catalog.show was called a second time")
    assert '"offering_id": "PLAN_M"' in result.stopped and stopped_events(events) == [result.stopped]
    # The unrun call is answered in the history, so the session can go on.
    history = memory_sessions.get(result.session_id).messages
    assert history[-2].type == "tool" and "agent.tool.not_run" in history[-2].content
    assert (await turn("ok", [{"say": "fine"}], session_id=result.session_id)).answer == "fine"


async def test_different_arguments_are_not_a_repeat(seeded_api):
    result = await turn("show", [{"tool": "catalog.show", "args": {"offering_id": "PLAN_M"}},
                                 {"tool": "catalog.show", "args": {"offering_id": "PLAN_L"}}, {"say": "two plans"}])
    assert len(result.tool_calls) == 2 and not result.stopped and result.answer == "two plans"


async def test_three_failed_calls_in_a_row_stop_the_turn(seeded_api):
    model = ScriptedModel([{"tool": "subscription.show", "args": {"subscription_id": f"SUB-99999{n}"}}
                           for n in range(5)])
    result = await turn("find it", model=model)
    assert [c.error["code"] for c in result.tool_calls] == ["subscription.not_found"] * 3
    assert result.stopped.startswith("failures: 3 tool calls in a row failed")
    assert "subscription.show → subscription.not_found" in result.stopped and len(model.received) == 3


async def test_a_success_resets_the_failure_count(seeded_api):
    bad = [{"tool": "subscription.show", "args": {"subscription_id": f"SUB-99999{n}"}} for n in range(4)]
    good = {"tool": "catalog.list", "args": {}}
    result = await turn("find it", [*bad[:2], good, *bad[2:], {"say": "no luck"}])
    assert len(result.tool_calls) == 5 and not result.stopped and result.answer == "no luck"


async def test_the_token_budget_counts_what_the_model_reports(seeded_api):
    events = []
    steps = [{"tool": "catalog.list", "args": {}, "usage": {"input_tokens": 390_000, "output_tokens": 20}},
             {"tool": "catalog.vas", "args": {}, "usage": {"input_tokens": 20_000, "output_tokens": 20}},
             {"say": "never"}]
    result = await turn("catalog", steps, events=events)
    assert result.tokens == 410_040 and len(result.tool_calls) == 1
    assert result.stopped == "budget: the turn used 410,040 tokens, over its budget of 400,000"
    assert stopped_events(events) == [result.stopped]


async def test_the_cost_budget_prices_the_tokens(seeded_api, monkeypatch):
    monkeypatch.setattr(get_settings(), "agent_max_cost_per_turn_usd", 0.01)
    steps = [{"say": "expensive", "usage": {"input_tokens": 10_000, "output_tokens": 20_000}}]
    result = await turn("hi", steps)
    assert result.cost_usd == round((10_000 * 0.15 + 20_000 * 0.60) / 1e6, 6)
    assert result.stopped == f"budget: the turn cost ${result.cost_usd:.4f}, over its budget of $0.01"


async def test_without_usage_metadata_the_tokens_are_estimated(seeded_api):
    result = await turn("hi", [{"say": "x" * 400}])
    # The prompt includes every operator tool's schema: thousands of tokens, estimated at 4 characters each.
    assert result.tokens > 5_000 and not result.stopped and result.answer == "x" * 400


def test_guard_counts_in_isolation():
    guards = Guards(max_steps=2, max_failures=2, max_tokens=100)
    assert guards.before_model() is None and guards.before_model() is None
    assert guards.before_model().startswith("steps: ")
    assert guards.after_model(None, sent_chars=200, received_chars=40) is None and guards.tokens == 60
    assert guards.after_model({"input_tokens": 30, "output_tokens": 20}, 0, 0).startswith("budget: ")
    assert guards.before_tool("a.b", {"x": 1, "y": 2}) is None and guards.before_tool("a.b", {"y": 2, "x": 1})
    assert guards.after_tool(False, "a.b", "c") is None and guards.after_tool(True, "a.b") is None
    assert guards.after_tool(False, "a.b", "c") is None and guards.after_tool(False, "a.b", "c").startswith("failures")


async def test_a_script_that_runs_out_says_so(seeded_api):
    assert (await turn("hi", [])).answer == SCRIPT_ENDED
