"""The model from the settings: ChatOpenAI at the configured endpoint, or a refusal naming the settings."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from agent.model import chat_model
from agent.runtime import MODEL_SETTINGS, model_configured, run_turn
from core.settings import get_settings


def test_without_a_model_the_turn_names_the_settings(monkeypatch):
    monkeypatch.setattr(get_settings(), "llm_base_url", None)
    assert not model_configured()
    with pytest.raises(RuntimeError, match="BSS_LLM_BASE_URL, BSS_LLM_MODEL, BSS_LLM_API_KEY"):
        run_turn("hi")
    assert MODEL_SETTINGS == ("BSS_LLM_BASE_URL", "BSS_LLM_MODEL", "BSS_LLM_API_KEY")


def test_the_settings_build_a_streaming_openai_compatible_client(monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(settings, "llm_base_url", "http://127.0.0.1:9/v1")
    monkeypatch.setattr(settings, "llm_model", "test-model")
    monkeypatch.setattr(settings, "llm_api_key", SecretStr("sk-test"))
    assert model_configured()
    model = chat_model()
    assert (model.openai_api_base, model.model_name, model.streaming) == ("http://127.0.0.1:9/v1", "test-model", True)
    assert model.openai_api_key.get_secret_value() == "sk-test" and model.stream_usage


async def test_a_model_endpoint_that_fails_ends_the_turn_with_its_reason(monkeypatch):
    import asyncio

    from langchain_openai import ChatOpenAI

    from agent.events import EventKind
    from agent.rails import Rails

    events = []
    model = ChatOpenAI(base_url="http://127.0.0.1:9/v1", model="m", api_key="k", streaming=True, max_retries=0,
                       timeout=5)
    result = await asyncio.to_thread(run_turn, "hi", model=model, rails=Rails(), on_event=events.append)
    assert result.stopped.startswith("model: the model call failed (") and "Connection error" in result.stopped
    assert result.answer == "" and result.tokens == 0
    assert [e.kind for e in events] == [EventKind.STOPPED, EventKind.FINAL]
