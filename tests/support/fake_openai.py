"""An OpenAI-compatible chat-completions server on loopback, answering with scripted replies.

It proves the real model client path (langchain-openai's `ChatOpenAI` → the `openai` SDK → HTTP →
parsing, tool calls, streaming, usage) without a model: each POST to `/v1/chat/completions` takes the
next reply of the script and answers it the way the OpenAI API does — one JSON `chat.completion`, or
with `"stream": true` server-sent events (`data: {chat.completion.chunk}` lines: the role, the content
in pieces, each tool call's id and name then its arguments in pieces, the finish reason, the usage
when `stream_options.include_usage` asks for it, then `data: [DONE]`).

A reply is `{"say": "text"}`, `{"tool": "customer.show", "args": {…}}` (an operation name: the model
speaks tool names, `customer__show`), `{"calls": [{"tool": …, "args": …}, …]}`, or a mix of `say` and
tool calls; `usage` (`{"prompt_tokens": …, "completion_tokens": …}`) overrides the counted one. Every
request's body and headers are kept (`requests`, `headers`) for the test to read.

    with FakeOpenAI([{"tool": "customer.show", "args": {"customer_id": "CUST-000001"}}, {"say": "Done."}]) as llm:
        env = {"BSS_LLM_BASE_URL": llm.base_url, "BSS_LLM_MODEL": "fake-model", "BSS_LLM_API_KEY": llm.api_key}
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

MODEL = "fake-model"
NO_MORE = "(the fake model has no more replies)"


def _pieces(text: str, size: int) -> list[str]:
    """Cut `text` the way a model streams it: words for prose, fixed slices for JSON arguments."""
    if size <= 0:
        return [t for t in re.split(r"(?<=\s)", text) if t]
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


class FakeOpenAI:
    """A scripted chat-completions server running in a thread (use as a context manager)."""

    def __init__(self, replies: list[dict[str, Any]], api_key: str = "sk-test-fake-openai") -> None:
        self.replies = list(replies)
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.block_on_close = False  # a client's idle keep-alive connection must not hold the test's end
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-openai", daemon=True)

    @property
    def base_url(self) -> str:
        """What `BSS_LLM_BASE_URL` is set to (the OpenAI SDK appends `/chat/completions`)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next(self, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            return self.replies.pop(0) if self.replies else {"say": NO_MORE}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: pytest shows what matters

            def do_POST(self) -> None:
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
                    return
                if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    self._json(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                               "code": "invalid_api_key"}})
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                reply = fake._next(body, {k.lower(): v for k, v in self.headers.items()})
                if body.get("stream"):
                    self._stream(body, reply)
                else:
                    self._json(200, completion(body, reply))

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any], reply: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")  # HTTP/1.0: the stream ends when the connection does
                self.end_headers()
                for chunk in chunks(body, reply):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        return Handler


def _calls(reply: dict[str, Any], turn: int) -> list[dict[str, Any]]:
    """The reply's tool calls in the API's shape (arguments as a JSON string)."""
    calls = reply.get("calls") or ([{"tool": reply["tool"], "args": reply.get("args", {})}] if "tool" in reply else [])
    return [{"id": f"call_{turn}_{n}", "type": "function",
             "function": {"name": call["tool"].replace(".", "__"), "arguments": json.dumps(call.get("args") or {})}}
            for n, call in enumerate(calls)]


def _usage(body: dict[str, Any], reply: dict[str, Any]) -> dict[str, int]:
    given = reply.get("usage") or {}
    prompt = int(given.get("prompt_tokens", len(json.dumps(body.get("messages", []))) // 4))
    completion_tokens = int(given.get("completion_tokens", max(1, len(json.dumps(reply)) // 4)))
    return {"prompt_tokens": prompt, "completion_tokens": completion_tokens, "total_tokens": prompt + completion_tokens}


def _head(body: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"id": f"chatcmpl-fake-{len(body.get('messages', []))}", "object": kind, "created": int(time.time()),
            "model": body.get("model", MODEL), "system_fingerprint": "fp_fake"}


def completion(body: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
    """A whole (non-streaming) `chat.completion` for the reply."""
    calls = _calls(reply, len(body.get("messages", [])))
    message: dict[str, Any] = {"role": "assistant", "content": reply.get("say") or (None if calls else "")}
    if calls:
        message["tool_calls"] = calls
    return {**_head(body, "chat.completion"),
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop",
                         "logprobs": None}],
            "usage": _usage(body, reply)}


def chunks(body: dict[str, Any], reply: dict[str, Any]) -> list[dict[str, Any]]:
    """The `chat.completion.chunk`s of a streamed reply, as the OpenAI API sends them."""
    head = _head(body, "chat.completion.chunk")
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        out = {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
        if include_usage:
            out["usage"] = None
        return out

    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": piece}) for piece in _pieces(reply.get("say") or "", 0)]
    calls = _calls(reply, len(body.get("messages", [])))
    for index, call in enumerate(calls):
        out.append(chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                          "function": {"name": call["function"]["name"], "arguments": ""}}]}))
        out += [chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
                for piece in _pieces(call["function"]["arguments"], 7)]
    out.append(chunk({}, "tool_calls" if calls else "stop"))
    if include_usage:
        out.append({**head, "choices": [], "usage": _usage(body, reply)})
    return out
