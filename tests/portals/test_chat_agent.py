"""The chat's agent side, against the real API with a scripted model: the browse profile (the public catalog
only, no customer, kept in memory, never in PostgreSQL) and the shared chat logic the portals call
(`portals.chat.run`, transcripts as lines for the customer and for care staff)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from agent.profiles import BROWSE_OPERATIONS, profile
from agent.scripted import ScriptedModel
from agent.session_store import RoutingStore
from agent.sessions import use_store
from portals import chat


@pytest.fixture
def routed() -> Any:
    """The process's default store (PostgreSQL, browse sessions in memory), fresh for the test."""
    store = RoutingStore()
    use_store(store)
    yield store
    use_store(None)
    chat.use_model(None)


def scripted(*turns: list[Any]) -> list[ScriptedModel]:
    """One scripted model per turn, handed out in order by `chat.use_model`."""
    models = [ScriptedModel(steps) for steps in turns]
    queue = list(models)
    chat.use_model(lambda session_id: queue.pop(0))
    return models


def test_the_browse_profile_reads_the_public_catalog_and_nothing_else():
    browse = profile("browse")
    assert {spec.op.name for spec in browse.specs.values()} == set(BROWSE_OPERATIONS) == {
        "catalog.list", "catalog.show", "catalog.vas"}
    for spec in browse.specs.values():
        assert not spec.confirm and not spec.bound
        schema = json.dumps(spec.schema.model_json_schema())
        assert "customer_id" not in schema and "include_all" not in schema, spec.name
    assert browse.spec("subscription__list") is None and browse.spec("customer__show") is None


async def test_a_browse_turn_answers_from_the_catalog_and_stays_out_of_postgresql(routed, seeded_api):
    first, second = scripted(
        [{"tool": "catalog.list", "args": {}}, {"say": "Standard has 30 GB for SGD 25.00."}],
        [{"tool": "subscription.list", "args": {}}, {"tool": "catalog.show", "args": {"offering_id": "PLAN_L"}},
         {"say": "Max is SGD 45.00."}])
    sid = chat.new_session_id("browse")
    assert sid.startswith("BRW-") and len(sid) == 28
    reply = await asyncio.to_thread(chat.run, "Which plan has 30 GB?", profile="browse", session_id=sid,
                                    actor="visitor")
    assert reply.error == "" and reply.answer == "Standard has 30 GB for SGD 25.00."
    assert reply.session_id == sid and reply.tools == ["catalog.list"] and not reply.refused
    # The model was handed the live catalog (the real API's answer), not a made-up one.
    tool_result = next(m for m in first.received[1] if getattr(m, "tool_call_id", None))
    assert "PLAN_M" in tool_result.content and "PLAN_S" in tool_result.content

    reply = await asyncio.to_thread(chat.run, "And the biggest?", profile="browse", session_id=sid, actor="visitor")
    assert reply.answer == "Max is SGD 45.00." and reply.tools == ["subscription.list", "catalog.show"]
    # An account tool is not in the browse profile: the model is told so, nothing is called.
    refused = [m for m in second.received[1] if getattr(m, "tool_call_id", None)][-1]
    assert "agent.tool.unknown" in refused.content
    # The second turn saw the first (the conversation is kept), and the transcript reads back as lines.
    assert any("Which plan has 30 GB?" in str(m.content) for m in second.received[0])
    lines = chat.transcript(sid)
    assert [(line.role, line.text) for line in lines] == [
        ("user", "Which plan has 30 GB?"), ("assistant", "Standard has 30 GB for SGD 25.00."),
        ("user", "And the biggest?"), ("assistant", "Max is SGD 45.00.")]
    # Nothing of it reached PostgreSQL: no session, no turn entry of the caps.
    assert (await seeded_api.get(f"/agent-api/v1/session/{sid}")).status_code == 404
    listed = (await seeded_api.get("/agent-api/v1/session")).json()
    assert listed == []


async def test_without_a_model_the_chat_says_so_in_words(routed, monkeypatch):
    from core.settings import get_settings

    for name in ("BSS_LLM_BASE_URL", "BSS_LLM_MODEL", "BSS_AGENT_SCRIPT"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        assert not chat.available()
        reply = chat.run("hello", profile="browse", session_id=chat.new_session_id("browse"), actor="visitor")
        assert reply.error == chat.NOT_AVAILABLE and reply.answer == ""
    finally:
        get_settings.cache_clear()


def test_a_script_file_plays_across_the_turns_of_one_conversation(tmp_path, monkeypatch, routed):
    from core.settings import get_settings

    script = tmp_path / "script.yaml"
    script.write_text("- {say: one}\n- {say: two}\n")
    monkeypatch.setenv("BSS_AGENT_SCRIPT", str(script))
    get_settings.cache_clear()
    try:
        a, b = chat.model_for("SES-a"), chat.model_for("SES-b")
        assert a is chat.model_for("SES-a") and a is not b  # one model per conversation
        assert a.invoke("x").content == "one" and a.invoke("y").content == "two" and b.invoke("z").content == "one"
    finally:
        monkeypatch.delenv("BSS_AGENT_SCRIPT")
        get_settings.cache_clear()


def test_transcript_lines_show_customers_their_messages_and_cases_and_staff_everything():
    entries = [
        {"type": "message", "role": "user", "text": "my sim was swapped, fraud"},
        {"type": "message", "role": "system", "text": "escalation (fraud): the customer wrote: my sim was swapped"},
        {"type": "message", "role": "system", "text": "escalated (fraud) to CASE-42; transcript up to entry 2 has …"},
        {"type": "message", "role": "assistant", "text": "I've passed this to our team as case CASE-42 (fraud)."},
        {"type": "toolCall", "operation": "subscription.show", "args": {}, "result": None,
         "error": {"code": "subscription.not_found", "message": "no such line"}},
        {"type": "message", "role": "system", "text": "trip-wire: the answer named 1 identifier(s) of another customer"},
        {"type": "toolCall", "operation": "subscription.vas", "args": {}, "error": None,
         "result": {"proposed": True, "operation": "subscription.vas"}},
        {"type": "turn", "tokens": 0, "costUsd": 0.0},
    ]
    customer = chat.lines_from_entries(entries, staff=False)
    assert [(line.role, line.text) for line in customer] == [
        ("user", "my sim was swapped, fraud"), ("case", "CASE-42"),
        ("assistant", "I've passed this to our team as case CASE-42 (fraud).")]
    assert customer[1].operation == "fraud"
    staff = chat.lines_from_entries(entries, staff=True)
    assert [line.role for line in staff] == ["user", "note", "case", "assistant", "tool", "note", "tool"]
    assert staff[4].text == "subscription.show refused: subscription.not_found — no such line" and not staff[4].ok
    assert staff[6].text == "subscription.vas proposed, waiting for a confirm" and staff[6].ok


def test_the_browse_throttle_counts_turns_per_address_in_a_sliding_hour():
    throttle = chat.Throttle(2, window_s=3600, max_keys=2)
    assert throttle.allow("a", now=0) and throttle.allow("a", now=10) and not throttle.allow("a", now=20)
    assert throttle.allow("b", now=20)  # another address has its own count
    assert not throttle.allow("a", now=3599) and throttle.allow("a", now=3601)  # the first turn left the window
    throttle.allow("c", now=3602)  # at most max_keys addresses are remembered (the oldest go first)
    assert set(throttle._hits) == {"a", "c"}


def test_a_live_turn_shows_tokens_and_tool_calls_as_they_come():
    from agent.events import AgentEvent, EventKind, Proposal

    live = chat.LiveTurn(id="t1", owner="token-a", session_id="SES-x", message="fix it")
    live.on_event(AgentEvent(EventKind.TOOL_START, operation="subscription.show"))
    assert live.snapshot()[1] == [chat.Line("tool", "subscription.show …", operation="subscription.show")]
    live.on_event(AgentEvent(EventKind.TOOL_END, operation="subscription.show", result={"id": "SUB-1"}))
    live.on_event(AgentEvent(EventKind.TOOL_START, operation="subscription.vas"))
    live.on_event(AgentEvent(EventKind.PROPOSAL, operation="subscription.vas"))
    live.on_event(AgentEvent(EventKind.TOKEN, text="I propose "))
    text, steps, reply = live.snapshot()
    assert text == "I propose " and reply is None
    assert [s.text for s in steps] == ["subscription.show done", "subscription.vas proposed, waiting for a confirm"]
    live.on_event(AgentEvent(EventKind.TOKEN, text="the add-on."))
    assert live.snapshot()[0] == "I propose the add-on."
    live.reply = chat.Reply(session_id="SES-x", answer="I propose the add-on.",
                            proposal=Proposal("subscription.vas", {"subscription_id": "SUB-1"}))
    assert live.snapshot()[2] is live.reply
    assert chat.proposal_words(Proposal("subscription.vas", {"subscription_id": "SUB-1", "offering": "VAS_X"})) == (
        "buy the add-on VAS_X for line SUB-1")
    assert chat.proposal_words(live.reply.proposal) == "subscription.vas"  # an argument missing: named as is


def test_a_long_conversation_shows_its_newest_lines():
    lines = [chat.Line("user", f"message {n}") for n in range(chat.MAX_LINES + 5)]
    shown = chat.recent(lines)
    assert len(shown) == chat.MAX_LINES + 1 and shown[0] == chat.Line("note", "5 earlier lines are not shown")
    assert shown[-1].text == f"message {chat.MAX_LINES + 4}" and chat.recent(lines[:3]) == lines[:3]
