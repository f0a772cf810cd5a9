"""The agent's tools: one LangChain `StructuredTool` per operation of the registry.

A tool's name is the operation's `tool_name` (`subscription__vas`), its description the operation's,
its argument schema the operation's input model — for the customer profile a model derived from it
without the customer-id fields, which are filled with the bound customer instead. Running a tool makes
the operation's API call(s) through `BssClient(surface="agent", actor=…, on_behalf_of=…)`; a refusal
(`ApiError`) or arguments the input model rejects come back as `{"error": {"code", "message", "context"}}`
for the model to act on, never as an exception out of the loop.
"""

from __future__ import annotations

import contextvars
import json
from dataclasses import dataclass
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, ValidationError, create_model

from core.api_error import ApiError
from operations.registry import Client, Operation

ARGS_INVALID = "agent.args.invalid"
TOOL_FAILED = "agent.tool.failed"
# A result longer than this (JSON characters) is cut before the model sees it (a long list would eat the budget).
MAX_RESULT_CHARS = 16_000


@dataclass(frozen=True)
class ToolSpec:
    """How one operation is offered to the model in one profile."""

    op: Operation
    schema: type[BaseModel]            # the arguments the model sees
    bound: tuple[str, ...] = ()        # fields filled with the bound customer (absent from `schema`)
    hidden: tuple[str, ...] = ()       # fields not offered at all (absent from `schema`, left at their default)
    confirm: bool = False              # proposed, run only after a confirm

    @property
    def name(self) -> str:
        """The tool's name."""
        return self.op.tool_name


@dataclass
class Binding:
    """Who a tool call is made for: the client carrying the agent token, and the bound customer."""

    client: Client
    customer_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    """A tool call's result (the API's JSON) or its error `{code, message, context}`."""

    result: Any = None
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True when the call succeeded."""
        return self.error is None

    def payload(self) -> Any:
        """What the model is handed: the result, or `{"error": …}`."""
        return {"error": self.error} if self.error is not None else self.result


_BINDING: contextvars.ContextVar[Binding | None] = contextvars.ContextVar("agent_tool_binding", default=None)


def derived_schema(op: Operation, drop: tuple[str, ...]) -> type[BaseModel]:
    """The operation's input model without the fields in `drop` (built once per profile)."""
    fields = {name: (info.annotation, info) for name, info in op.input.model_fields.items() if name not in drop}
    return create_model(f"{op.input.__name__}ForCustomer", __doc__=op.input.__doc__, **fields)  # type: ignore[call-overload]


def error(code: str, message: str, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """An error as the model sees it."""
    return {"code": code, "message": message, "context": context or {}}


def _values(spec: ToolSpec, args: dict[str, Any], binding: Binding) -> dict[str, Any]:
    """The model's arguments, the bound customer in the bound fields, the hidden ones left out."""
    values = {k: v for k, v in (args or {}).items() if k not in spec.bound and k not in spec.hidden}
    for name in spec.bound:
        values[name] = binding.customer_id
    return values


def _invalid(spec: ToolSpec, exc: ValidationError) -> Outcome:
    problems = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
    return Outcome(error=error(ARGS_INVALID, f"the arguments of {spec.op.name} do not fit its schema",
                               {"errors": problems}))


def validate(spec: ToolSpec, args: dict[str, Any], binding: Binding) -> Outcome | None:
    """None when the arguments fit the operation's input, else the error the model gets."""
    try:
        spec.op.input.model_validate(_values(spec, args, binding))
    except ValidationError as exc:
        return _invalid(spec, exc)
    return None


def execute(spec: ToolSpec, args: dict[str, Any], binding: Binding) -> Outcome:
    """Validate the model's arguments against the operation's input, make the call, catch every refusal."""
    try:
        model = spec.op.input.model_validate(_values(spec, args, binding))
    except ValidationError as exc:
        return _invalid(spec, exc)
    try:
        result = spec.op.run(binding.client, model)
    except ApiError as exc:
        context = exc.context if isinstance(exc.context, dict) else {"context": exc.context}
        return Outcome(error=error(exc.code, exc.message, dict(context)))
    except Exception as exc:  # noqa: BLE001 - an operation's own refusal or a fault: the model hears of it, the loop goes on
        return Outcome(error=error(TOOL_FAILED, f"{type(exc).__name__}: {exc}"))
    return Outcome(result=result)


def for_model(outcome: Outcome) -> str:
    """The tool message's content: compact JSON, cut at `MAX_RESULT_CHARS`."""
    text = json.dumps(outcome.payload(), default=str, separators=(",", ":"))
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + f"… [cut: {len(text)} characters in all; narrow the query]"
    return text


def structured_tool(spec: ToolSpec) -> StructuredTool:
    """The LangChain tool of one spec; run directly it uses the binding of the current context (`bind`)."""

    def run(**kwargs: Any) -> Any:
        binding = _BINDING.get()
        if binding is None:
            raise RuntimeError(f"{spec.name} was called outside an agent turn (no binding)")
        return execute(spec, kwargs, binding).payload()

    return StructuredTool(name=spec.name, description=spec.op.description, args_schema=spec.schema, func=run)


def bind(binding: Binding) -> contextvars.Token[Binding | None]:
    """Make `binding` the one tools called in this context run with (returns the token to reset it)."""
    return _BINDING.set(binding)


def unbind(token: contextvars.Token[Binding | None]) -> None:
    """Undo `bind`."""
    _BINDING.reset(token)
