"""The real model client path end to end: `bss ask` with `BSS_LLM_BASE_URL` pointing at an OpenAI-compatible
server on loopback (tests/support/fake_openai.py) drives langchain-openai's `ChatOpenAI` — the openai SDK,
HTTP, server-sent events, tool-call deltas, usage — through a tool call against the real API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from tests.support.factories import ready_customer
from tests.support.fake_openai import MODEL, FakeOpenAI

CUSTOMER = "/tmf-api/customerManagement/v4/customer"


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """`endpoint(replies)`: a fake OpenAI server named by the model settings (no script)."""
    from core.settings import get_settings

    servers: list[FakeOpenAI] = []

    def start(replies: list[dict]) -> FakeOpenAI:
        server = FakeOpenAI(replies).__enter__()
        servers.append(server)
        monkeypatch.delenv("BSS_AGENT_SCRIPT", raising=False)
        monkeypatch.setenv("BSS_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("BSS_LLM_MODEL", MODEL)
        monkeypatch.setenv("BSS_LLM_API_KEY", server.api_key)
        get_settings.cache_clear()
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)
    monkeypatch.undo()
    get_settings.cache_clear()


async def test_bss_ask_streams_a_real_chat_openai_through_a_tool_call(bss, seeded_api, endpoint):
    customer_id = await ready_customer(seeded_api)
    name = (await seeded_api.get(f"{CUSTOMER}/{customer_id}")).json()["name"]
    llm = endpoint([
        {"say": "Let me look that up.", "tool": "customer.show", "args": {"customer_id": customer_id},
         "usage": {"prompt_tokens": 100, "completion_tokens": 20}},
        {"say": f"{name} is active, with a card on file and no lines.",
         "usage": {"prompt_tokens": 100, "completion_tokens": 20}},
    ])
    result = await bss("ask", f"how is {customer_id}?")
    assert result.exit_code == 0, result.output
    out = result.output
    # The streamed words, the tool call's line, the CLI's card, then the streamed answer, in that order.
    order = [out.index("Let me look that up."), out.index(f"▸ customer.show {customer_id}"),
             out.index(f"customer {customer_id} · {name}"), out.index(f"{name} is active, with a card on file")]
    assert order == sorted(order), out

    first, second = llm.requests
    assert first["stream"] is True and first["stream_options"] == {"include_usage": True} and first["model"] == MODEL
    assert llm.headers[0]["authorization"] == f"Bearer {llm.api_key}"
    tools = {tool["function"]["name"]: tool["function"] for tool in first["tools"]}
    assert "customer.show" not in tools and "customer_id" in tools["customer__show"]["parameters"]["properties"]
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    assert first["messages"][1]["content"] == f"how is {customer_id}?"
    # The model's streamed tool call (name and arguments in pieces) came back whole, was run against the API,
    # and its JSON result went to the model as the tool message of that call.
    *_, asked, answered = second["messages"]
    assert asked["role"] == "assistant" and asked["tool_calls"][0]["function"]["name"] == "customer__show"
    assert json.loads(asked["tool_calls"][0]["function"]["arguments"]) == {"customer_id": customer_id}
    assert answered["role"] == "tool" and answered["tool_call_id"] == asked["tool_calls"][0]["id"]
    assert json.loads(answered["content"])["customer"]["id"] == customer_id


async def test_the_streamed_usage_is_what_the_turn_counts_and_its_budget_stops_it(bss, seeded_api, endpoint,
                                                                                  monkeypatch):
    customer_id = await ready_customer(seeded_api)
    endpoint([{"tool": "customer.show", "args": {"customer_id": customer_id},
               "usage": {"prompt_tokens": 1000, "completion_tokens": 50}},
              {"say": "Active.", "usage": {"prompt_tokens": 1200, "completion_tokens": 10}}])
    turn = json.loads((await bss("ask", "status?", "--json")).output)
    assert turn["tokens"] == 2260 and turn["answer"] == "Active." and turn["stopped"] == ""
    assert turn["tool_calls"][0]["result"]["customer"]["id"] == customer_id

    monkeypatch.setenv("BSS_AGENT_MAX_TOKENS_PER_TURN", "1500")
    endpoint([{"tool": "customer.show", "args": {"customer_id": customer_id},
               "usage": {"prompt_tokens": 1000, "completion_tokens": 50}},
              {"say": "Active.", "usage": {"prompt_tokens": 1200, "completion_tokens": 10}}])
    stopped = await bss("ask", "status?")
    assert stopped.exit_code == 1, stopped.output
    assert "■ stopped: budget" in stopped.output and "1,500" in stopped.output


async def test_a_non_streaming_endpoint_works_too(seeded_api, endpoint):
    from langchain_openai import ChatOpenAI

    from agent.runtime import run_turn

    customer_id = await ready_customer(seeded_api)
    llm = endpoint([{"tool": "customer.show", "args": {"customer_id": customer_id}}, {"say": "Active."}])
    model = ChatOpenAI(base_url=llm.base_url, model=MODEL, api_key=llm.api_key, disable_streaming=True)
    events = []
    result = await asyncio.to_thread(run_turn, "status?", model=model, on_event=events.append)
    assert all(not request.get("stream") for request in llm.requests) and len(llm.requests) == 2
    (call,) = result.tool_calls
    assert call.operation == "customer.show" and call.result["customer"]["id"] == customer_id
    assert result.answer == "Active." and result.tokens > 0


async def test_a_wrong_api_key_is_reported_not_raised(bss, endpoint, monkeypatch):
    endpoint([{"say": "never"}])
    monkeypatch.setenv("BSS_LLM_API_KEY", "sk-wrong")
    from core.settings import get_settings

    get_settings.cache_clear()
    result = await bss("ask", "hello")
    assert result.exit_code == 1 and "AuthenticationError" in result.output and "Traceback" not in result.output
