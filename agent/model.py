"""The agent's chat model: any OpenAI-compatible endpoint named by the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.settings import get_settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


def chat_model() -> BaseChatModel:
    """`ChatOpenAI` at `BSS_LLM_BASE_URL` with `BSS_LLM_MODEL`, streaming, usage reported in the stream."""
    from langchain_openai import ChatOpenAI

    settings = get_settings()
    if not (settings.llm_base_url and settings.llm_model):
        raise RuntimeError("no model configured: set BSS_LLM_BASE_URL and BSS_LLM_MODEL (and BSS_LLM_API_KEY)")
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
    return ChatOpenAI(base_url=settings.llm_base_url, model=settings.llm_model, api_key=key, streaming=True,
                      stream_usage=True, timeout=settings.llm_timeout_s, max_retries=1)
