"""A scripted chat model: the agent's loop runs for real, only the model's moves are written down.

`ScriptedModel(steps)` answers each model call with the next step: an `AIMessage` as is, or a dict
`{"tool": "subscription.vas", "args": {…}}` (one tool call), `{"calls": [{"tool": …, "args": …}, …]}`
(several in one step), `{"say": "text"}` (an answer). A dict step may add `"usage": {"input_tokens": …,
"output_tokens": …}` (reported as the model's usage metadata, as a real endpoint does) and `"say"` beside
tool calls. Tool names are operation names; the model speaks tool names (`subscription__vas`).
When the script runs out the model says so, so a test sees it rather than a hang.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk
from pydantic import Field

SCRIPT_ENDED = "(the script has no more steps)"


def tool_name(operation: str) -> str:
    """The name the model calls an operation by (`subscription.vas` → `subscription__vas`)."""
    return operation.replace(".", "__")


def step_message(step: AIMessage | dict[str, Any] | str, index: int) -> AIMessage:
    """One scripted step as the AIMessage a model would answer."""
    if isinstance(step, AIMessage):
        return step
    if isinstance(step, str):
        return AIMessage(content=step)
    calls = step.get("calls") or ([{"tool": step["tool"], "args": step.get("args", {})}] if "tool" in step else [])
    tool_calls = [{"name": tool_name(call["tool"]), "args": dict(call.get("args") or {}),
                   "id": f"call_{index}_{n}", "type": "tool_call"} for n, call in enumerate(calls)]
    usage = step.get("usage")
    metadata = None
    if usage:
        metadata = {"input_tokens": int(usage.get("input_tokens", 0)), "output_tokens": int(usage.get("output_tokens", 0)),
                    "total_tokens": int(usage.get("input_tokens", 0)) + int(usage.get("output_tokens", 0))}
    return AIMessage(content=str(step.get("say", "")), tool_calls=tool_calls, usage_metadata=metadata)


class ScriptedModel(GenericFakeChatModel):
    """A GenericFakeChatModel fed a script; `bind_tools` returns itself (the tools are the agent's).

    `received` keeps the messages of each call, so a test can see what the model was told (a refusal's code).
    """

    received: list[list[Any]] = Field(default_factory=list)

    def __init__(self, steps: list[AIMessage | dict[str, Any] | str], **kwargs: Any) -> None:
        messages = [step_message(step, index) for index, step in enumerate(steps)]
        super().__init__(messages=itertools.chain(messages, itertools.repeat(AIMessage(content=SCRIPT_ENDED))),
                         **kwargs)

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedModel:  # type: ignore[override]
        """The script already names its tools."""
        return self

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        """The next step, unstreamed."""
        self.received.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def _stream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        """Stream the content word by word, then the tool calls and usage in a last chunk (the parent drops them)."""
        self.received.append(list(messages))
        message = next(self.messages)
        message = AIMessage(content=message) if isinstance(message, str) else message
        content = message.content if isinstance(message.content, str) else ""
        for token in (t for t in re.split(r"(\s)", content) if t):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token, id=message.id))
            if run_manager:
                run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
        last = AIMessageChunk(content="", id=message.id, tool_calls=message.tool_calls,
                              usage_metadata=message.usage_metadata, chunk_position="last")
        chunk = ChatGenerationChunk(message=last)
        if run_manager:
            run_manager.on_llm_new_token("", chunk=chunk)
        yield chunk
