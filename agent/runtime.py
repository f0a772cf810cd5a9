"""One agent turn: LangChain's `create_agent` over the profile's tools, with the guards and the rails.

`run_turn(message, …)` loads (or starts) the session, runs the model/tool loop, emits `AgentEvent`s as
things happen and returns a `TurnResult`; the messages of the turn are appended to the session.
Every tool call goes through `TurnMiddleware.wrap_tool_call`: the repeat guard, the rails, a proposal
instead of a destructive call, the API call through the operation, the failure guard. The step and
budget guards sit before and after each model call and end the graph (`jump_to: end`).

A proposal ends the turn after one more model step, in which the model says what it proposed (a tool
it calls then is not run). `run_turn("", session_id=…, confirm=True)` runs the pending proposal
(recorded as the call it is, with its result) and lets the model go on from there; `cancel(session_id)`
drops it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware, hook_config
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from agent import guards as guards_module
from agent.events import AgentEvent, EventKind, Proposal, TurnResult
from agent.profiles import Profile, system_prompt
from agent.profiles import profile as get_profile
from agent.rails import SESSION_HEADER, Rails, Stop, TurnContext, load_rails
from agent.sessions import Pending, Session, store
from agent.tools import Binding, Outcome, ToolSpec, error, execute, for_model, structured_tool, validate
from core.settings import get_settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from operations.registry import Client

MODEL_SETTINGS = ("BSS_LLM_BASE_URL", "BSS_LLM_MODEL", "BSS_LLM_API_KEY")
UNKNOWN_TOOL = "agent.tool.unknown"
NOT_RUN = "agent.tool.not_run"
REFUSED = "agent.refused"


def model_configured() -> bool:
    """True when the settings name a model endpoint (`BSS_LLM_BASE_URL` and `BSS_LLM_MODEL`)."""
    settings = get_settings()
    return bool(settings.llm_base_url and settings.llm_model)


@dataclass
class Turn:
    """The state of one turn, handed to the middleware as the graph's runtime context."""

    profile: Profile
    binding: Binding
    rails: Rails
    ctx: TurnContext
    guards: guards_module.Guards
    emit: Callable[[AgentEvent], None]
    model: Any = None                       # this turn's chat model (the graph is shared by every turn of a profile)
    tool_chars: int = 0                     # the size of the tool schemas, for the token estimate
    trace_id: str | None = None             # the trace every API call of the turn joins (None with a given client)
    proposal: Pending | None = None
    said_after_proposal: bool = False       # the model's one step after a proposal (to say what it proposed)
    stopped: str = ""
    stop: Stop | None = None
    tool_calls: list[AgentEvent] = field(default_factory=list)

    def end(self, reason: str, stop: Stop | None = None) -> None:
        """A guard or a rail ends the turn (the first reason wins)."""
        if not self.stopped:
            self.stopped = reason
            self.stop = stop
            self.emit(AgentEvent(EventKind.STOPPED, reason=reason))


def _tool_message(payload: Any, call_id: str, name: str, trace_id: str | None = None) -> ToolMessage:
    text = payload if isinstance(payload, str) else json.dumps(payload, default=str, separators=(",", ":"))
    extra = {"trace_id": trace_id} if trace_id else {}
    return ToolMessage(content=text, tool_call_id=call_id, name=name, additional_kwargs=extra)


def _chars(messages: list[BaseMessage]) -> int:
    total = 0
    for message in messages:
        total += len(message.content) if isinstance(message.content, str) else len(json.dumps(message.content))
        if isinstance(message, AIMessage) and message.tool_calls:
            total += len(json.dumps([c["args"] for c in message.tool_calls], default=str))
    return total


class TurnMiddleware(AgentMiddleware):
    """The guards and the rails around the model and the tools (state lives in the `Turn` context)."""

    @hook_config(can_jump_to=["end"])
    def before_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        turn: Turn = runtime.context
        if turn.stopped:
            return {"jump_to": "end"}
        if turn.proposal is not None:  # the model has one more step to say what it proposed, then the turn ends
            if turn.said_after_proposal:
                return {"jump_to": "end"}
            turn.said_after_proposal = True
        if reason := turn.guards.before_model():
            turn.end(reason)
            return {"jump_to": "end"}
        return None

    @hook_config(can_jump_to=["end"])
    def after_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        turn: Turn = runtime.context
        if turn.stopped:  # the model call itself failed: nothing was answered, nothing to count
            return {"jump_to": "end"}
        messages = state["messages"]
        last = messages[-1]
        usage = getattr(last, "usage_metadata", None)
        if reason := turn.guards.after_model(usage, _chars(messages[:-1]) + turn.tool_chars, _chars([last])):
            turn.end(reason)
            return {"jump_to": "end"}
        return None

    def wrap_model_call(self, request: Any, handler: Any) -> Any:
        turn: Turn = request.runtime.context
        try:
            return handler(request.override(model=turn.model))
        except Exception as exc:  # noqa: BLE001 - an endpoint that fails ends the turn with its reason, not a crash
            turn.end(f"model: the model call failed ({type(exc).__name__}: {str(exc)[:200]})")
            return AIMessage(content="")

    def wrap_tool_call(self, request: Any, handler: Any) -> ToolMessage:
        turn: Turn = request.runtime.context
        call = request.tool_call
        name, args, call_id = call["name"], dict(call.get("args") or {}), call["id"]
        spec = turn.profile.spec(name)
        # An unknown tool is still reported by the operation name it stands for (`customer__list` → customer.list).
        operation = spec.op.name if spec else name.replace("__", ".", 1)
        if turn.stopped or turn.proposal is not None:  # the turn ended, or waits for the confirm of a proposal
            why = turn.stopped or (f"{turn.proposal.proposal.operation} is proposed and waits for a confirm;"  # type: ignore[union-attr]
                                   " nothing else runs before it")
            return _tool_message({"error": error(NOT_RUN, f"not run: {why}")}, call_id, name)
        if reason := turn.guards.before_tool(operation, args):
            turn.end(reason)
            return _tool_message({"error": error(NOT_RUN, reason)}, call_id, name)
        turn.emit(AgentEvent(EventKind.TOOL_START, operation=operation, args=args))
        if spec is None:
            outcome = Outcome(error=error(UNKNOWN_TOOL, f"there is no tool {name} in the {turn.profile.name} profile",
                                          {"tools": sorted(turn.profile.specs)[:200]}))
        else:
            outcome = _run_tool(turn, spec, args, call_id)
            if isinstance(outcome, ToolMessage):  # a proposal
                return outcome
        return _finish_tool(turn, operation, args, outcome, call_id, name)


def _run_tool(turn: Turn, spec: ToolSpec, args: dict[str, Any], call_id: str) -> Outcome | ToolMessage:
    """The rails' say before the call, then the proposal or the call itself."""
    verdict = turn.rails.before_tool(turn.ctx, spec.op.name, args)
    if isinstance(verdict, Stop):
        turn.end(verdict.reason, verdict)
        return Outcome(error=error(REFUSED, verdict.reason))
    if verdict is not None:
        return Outcome(result=verdict) if "error" not in verdict else Outcome(error=verdict["error"])
    if spec.confirm:
        problem = validate(spec, args, turn.binding)
        if problem is not None:
            return problem
        pending = Pending(Proposal(operation=spec.op.name, args=args), tool_call_id=call_id)
        turn.proposal = pending
        who = "the customer's confirm" if turn.profile.name == "customer" else "the operator's /confirm"
        payload = {"proposed": True, "operation": spec.op.name, "args": args, "message": f"waiting for {who}"}
        turn.emit(AgentEvent(EventKind.PROPOSAL, operation=spec.op.name, args=args, text=spec.op.description))
        return _tool_message(payload, call_id, spec.name)
    return execute(spec, args, turn.binding)


def _finish_tool(turn: Turn, operation: str, args: dict[str, Any], outcome: Outcome, call_id: str,
                 name: str) -> ToolMessage:
    """The rails' say on the result, the TOOL_END event, the failure guard, the tool message."""
    if outcome.ok:
        checked = turn.rails.after_tool(turn.ctx, operation, args, outcome.result)
        if isinstance(checked, Stop):
            turn.end(checked.reason, checked)
            outcome = Outcome(error=error(REFUSED, checked.reason))
        elif isinstance(checked, dict) and set(checked) == {"error"}:
            outcome = Outcome(error=checked["error"])
        else:
            outcome = Outcome(result=checked)
    event = AgentEvent(EventKind.TOOL_END, operation=operation, args=args, result=outcome.result, error=outcome.error)
    turn.tool_calls.append(event)
    turn.emit(event)
    if reason := turn.guards.after_tool(outcome.ok, operation, (outcome.error or {}).get("code", "")):
        turn.end(reason)
    return _tool_message(for_model(outcome), call_id, name, turn.trace_id)


_AGENTS: dict[str, Any] = {}
_TOOL_CHARS: dict[str, int] = {}


def _agent(prof: Profile) -> Any:
    """The compiled agent graph of a profile, built once per process (each turn brings its model in its context).

    Building it costs ~90 ms (LangGraph inspects each of the operator's 95 tools), more than a whole turn's work.
    """
    graph = _AGENTS.get(prof.name)
    if graph is None:
        from agent.scripted import ScriptedModel

        tools = [structured_tool(spec) for spec in prof.specs.values()]
        # The model given here is never called: `TurnMiddleware.wrap_model_call` puts the turn's own in its place.
        graph = create_agent(ScriptedModel([]), tools=tools, middleware=[TurnMiddleware()], context_schema=Turn)
        _AGENTS[prof.name] = graph
    return graph


def _tool_chars(prof: Profile) -> int:
    if prof.name not in _TOOL_CHARS:
        _TOOL_CHARS[prof.name] = sum(len(spec.name) + len(spec.op.description)
                                     + len(json.dumps(spec.schema.model_json_schema())) for spec in prof.specs.values())
    return _TOOL_CHARS[prof.name]


def _client(session: Session, actor: str, trace_id: str) -> Client:
    """The turn's client: the agent token, the actor or the bound customer, the session, the turn's trace."""
    from core.api_client import BssClient

    bound = session.customer_id if session.profile == "customer" else None
    # W3C trace context: every API call of the turn joins one trace (`bss trace for-ask` draws it), sampled.
    traceparent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"
    return BssClient(surface="agent", actor=actor if session.profile == "operator" else None, on_behalf_of=bound,
                     headers={SESSION_HEADER: session.id, "traceparent": traceparent})


def _open_session(session_id: str | None, profile: str, customer_id: str | None, actor: str) -> Session:
    sessions = store()
    if session_id:
        session = sessions.get(session_id)
        if session is not None:
            if session.profile != profile:
                raise ValueError(f"session {session_id} is a {session.profile} session, not {profile}")
            if profile == "customer" and session.customer_id != customer_id:
                raise ValueError(f"session {session_id} belongs to another customer")
            if profile == "operator" and customer_id and customer_id != session.customer_id:
                session.customer_id = customer_id  # the operator's focus moved (/focus)
            return session
    return sessions.create(profile=profile, customer_id=customer_id, actor=actor, session_id=session_id)


def _close_dangling(messages: list[BaseMessage], reason: str) -> list[BaseMessage]:
    """Answer tool calls the turn ended before running, so the history stays a valid conversation."""
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    closing = [_tool_message({"error": error(NOT_RUN, f"not run: {reason or 'the turn ended'}")}, c["id"], c["name"])
               for m in messages if isinstance(m, AIMessage) for c in m.tool_calls if c["id"] not in answered]
    return messages + closing


def cancel(session_id: str) -> Proposal | None:
    """Drop the session's pending proposal (the REPL's /cancel); returns what was dropped."""
    sessions = store()
    session = sessions.get(session_id)
    if session is None or session.pending is None:
        return None
    sessions.set_pending(session_id, None)
    sessions.append(session_id, [HumanMessage(content=f"/cancel: do not run {session.pending.proposal.operation}")])
    return session.pending.proposal


def run_turn(message: str, *, session_id: str | None = None, profile: str = "operator",
             customer_id: str | None = None, actor: str = "operator", model: BaseChatModel | None = None,
             confirm: bool = False, on_event: Callable[[AgentEvent], None] = lambda e: None,
             rails: Rails | None = None, client: Client | None = None) -> TurnResult:
    """Run one turn of the agent (see the module's docstring); `rails` and `client` are for tests."""
    if profile == "customer" and not (customer_id and customer_id.startswith("CUST-")):
        raise ValueError("the customer profile needs the bound customer's id (CUST-…)")
    prof = get_profile(profile)
    if model is None:
        if not model_configured():
            raise RuntimeError(f"no model is configured: set {', '.join(MODEL_SETTINGS)}")
        from agent.model import chat_model

        model = chat_model()
    session = _open_session(session_id, profile, customer_id, actor)
    sessions = store()
    events: list[AgentEvent] = []
    hold = profile == "customer"  # the customer's answer is shown only once the rails passed it

    def emit(event: AgentEvent) -> None:
        events.append(event)
        on_event(event)

    ctx = TurnContext(session_id=session.id, profile=profile, customer_id=session.customer_id, actor=actor,
                      message=message, history=list(session.messages), events=events)
    own_client = client is None
    trace_id = uuid.uuid4().hex if own_client else None
    binding = Binding(client=client or _client(session, actor, trace_id or ""),
                      customer_id=session.customer_id if profile == "customer" else None)
    turn = Turn(profile=prof, binding=binding, rails=rails or load_rails(), ctx=ctx,
                guards=guards_module.Guards.from_settings(), emit=emit, model=model, tool_chars=_tool_chars(prof),
                trace_id=trace_id)
    try:
        return _run(turn, session, message, confirm, hold, sessions)
    finally:
        if own_client:
            binding.client.close()  # type: ignore[attr-defined]


def _run(turn: Turn, session: Session, message: str, confirm: bool, hold: bool, sessions: Any) -> TurnResult:
    new: list[BaseMessage] = []
    result = TurnResult(session_id=session.id, answer="")
    if confirm:
        if session.pending is None:
            return _done(turn, result, "there is no proposal to confirm", sessions, session, new)
        new.extend(_confirm(turn, session, message))
        sessions.set_pending(session.id, None)
    else:
        if session.pending is not None:  # a new message instead of a confirm: the proposal lapses
            sessions.set_pending(session.id, None)
        new.append(HumanMessage(content=message))
        stop = turn.rails.before_turn(turn.ctx, message)
        if stop is not None:
            if stop.escalated:
                turn.stop = stop  # an escalation is an answer, not a guard's stop
            else:
                turn.end(stop.reason, stop)
            return _done(turn, result, stop.answer or stop.reason, sessions, session, new)
    if turn.stopped:  # the confirmed call itself was stopped by a rail
        return _done(turn, result, "", sessions, session, new)
    graph = _agent(turn.profile)
    prompt = SystemMessage(content=system_prompt(turn.profile.name, session.customer_id))
    start = [prompt, *session.messages, *new]
    final_state: dict[str, Any] | None = None
    for mode, data in graph.stream({"messages": start}, context=turn, stream_mode=["messages", "values"]):
        if mode == "messages":
            chunk, meta = data
            if (not hold and isinstance(chunk, AIMessageChunk) and isinstance(chunk.content, str) and chunk.content
                    and meta.get("langgraph_node") == "model"):
                turn.emit(AgentEvent(EventKind.TOKEN, text=chunk.content))
        else:
            final_state = data
    produced = list((final_state or {}).get("messages", []))[len(start):]
    new.extend(produced)
    answer = ""
    last_ai = next((m for m in reversed(produced) if isinstance(m, AIMessage)), None)
    if last_ai is not None and isinstance(last_ai.content, str):
        answer = last_ai.content
    if answer:  # every text of the model's is the rails' to pass before anyone sees it (a proposal's, a stopped turn's)
        checked = turn.rails.after_answer(turn.ctx, answer)
        if isinstance(checked, Stop):
            turn.end(checked.reason, checked)
            answer = checked.answer or checked.reason
            if new and new[-1] is last_ai and not last_ai.tool_calls:
                new.pop()  # never shown, so never stored (nor recapped on /resume); the rail audited it
            new.append(AIMessage(content=answer))
        else:
            answer = checked
            if hold:
                turn.emit(AgentEvent(EventKind.TOKEN, text=answer))
    if turn.proposal is not None:
        p = turn.proposal.proposal
        who = "your confirm" if turn.profile.name == "customer" else "the operator's /confirm"
        answer = answer or f"Proposed {p.operation} {json.dumps(p.args, default=str)}: waiting for {who}."
        sessions.set_pending(session.id, turn.proposal)
        result.proposal = p
    return _done(turn, result, answer, sessions, session, new)


def _confirm(turn: Turn, session: Session, message: str) -> list[BaseMessage]:
    """Run the pending proposal: recorded as the confirm, the call and its result."""
    pending = session.pending
    assert pending is not None
    spec = next(s for s in turn.profile.specs.values() if s.op.name == pending.proposal.operation)
    args = dict(pending.proposal.args)
    call_id = f"confirmed_{pending.tool_call_id}"
    turn.emit(AgentEvent(EventKind.TOOL_START, operation=spec.op.name, args=args))
    verdict = turn.rails.before_tool(turn.ctx, spec.op.name, args)
    if isinstance(verdict, Stop):
        turn.end(verdict.reason, verdict)
        outcome = Outcome(error=error(REFUSED, verdict.reason))
    elif verdict is not None:
        outcome = Outcome(result=verdict) if "error" not in verdict else Outcome(error=verdict["error"])
    else:
        outcome = execute(spec, args, turn.binding)
    turn.guards.before_tool(spec.op.name, args)  # the model asking for it again this turn is a repeat
    tool_message = _finish_tool(turn, spec.op.name, args, outcome, call_id, spec.name)
    return [HumanMessage(content=message or f"/confirm {spec.op.name}"),
            AIMessage(content="", tool_calls=[{"name": spec.name, "args": args, "id": call_id, "type": "tool_call"}]),
            tool_message]


def _done(turn: Turn, result: TurnResult, answer: str, sessions: Any, session: Session,
          new: list[BaseMessage]) -> TurnResult:
    stop = turn.stop
    if stop is not None and stop.escalated:
        result.escalated = stop.escalated
        turn.emit(AgentEvent(EventKind.ESCALATED, reason=stop.escalated, text=stop.case_id,
                             result={"category": stop.escalated, "case_id": stop.case_id}))
        answer = stop.answer or answer or stop.reason
    if new and not (isinstance(new[-1], AIMessage) and not new[-1].tool_calls) and answer:
        new = [*_close_dangling(new, turn.stopped), AIMessage(content=answer)]
    else:
        new = _close_dangling(new, turn.stopped)
    if new:
        sessions.append(session.id, new)
    result.answer = answer
    result.tool_calls = list(turn.tool_calls)
    result.stopped = turn.stopped
    result.tokens = turn.guards.tokens
    result.cost_usd = round(turn.guards.cost_usd, 6)
    result.trace_id = turn.trace_id if turn.tool_calls else None
    turn.emit(AgentEvent(EventKind.FINAL, text=answer))
    turn.rails.after_turn(turn.ctx, result)
    return result
