"""How the REPL and `bss ask` reach the agent: is a model configured, which model, one turn.

The agent runtime (`agent.runtime`) pulls in LangChain, so it is imported only when a turn runs (the
REPL starts a background import as soon as it opens, so the first turn does not wait for it).
`BSS_AGENT_SCRIPT` names a YAML or JSON script of model moves (a list of steps, or `{steps: […]}`,
as `agent.scripted.ScriptedModel` takes them): the agent then runs for real against the API with
those moves instead of a model endpoint (tests, demos, scenario rehearsals).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.events import AgentEvent, TurnResult

# Also in agent.runtime.MODEL_SETTINGS; repeated here so a REPL without a model opens without LangChain.
MODEL_SETTINGS = ("BSS_LLM_BASE_URL", "BSS_LLM_MODEL", "BSS_LLM_API_KEY")
NO_MODEL = ("no model configured: set BSS_LLM_BASE_URL and BSS_LLM_MODEL (and BSS_LLM_API_KEY if the endpoint"
            " needs one) to an OpenAI-compatible endpoint to talk to the agent")


def script_path() -> Path | None:
    """The scripted model's file (`BSS_AGENT_SCRIPT`), if one is set."""
    from core.settings import get_settings

    return get_settings().agent_script


def model_configured() -> bool:
    """True when a turn can run: a scripted model, or an endpoint and a model name in the settings."""
    from core.settings import get_settings

    settings = get_settings()
    return settings.agent_script is not None or bool(settings.llm_base_url and settings.llm_model)


def model_label() -> str:
    """What answers the turns, for the banner: `gpt-4o-mini at http://…` or the script's file."""
    from core.settings import get_settings

    settings = get_settings()
    if settings.agent_script is not None:
        return f"scripted model ({settings.agent_script.name})"
    return f"{settings.llm_model} at {settings.llm_base_url}"


def load_script(path: Path) -> list[Any]:
    """The steps of a script file: a YAML/JSON list, or a mapping with `steps`."""
    import yaml

    data = yaml.safe_load(path.read_text())
    steps = data.get("steps") if isinstance(data, dict) else data
    if not isinstance(steps, list):
        raise TypeError(f"{path}: a script is a list of steps (or a mapping with `steps`)")
    return steps


def make_model() -> Any:
    """The model the turns of this process use: the scripted one when `BSS_AGENT_SCRIPT` is set, else None
    (the runtime then builds the configured endpoint's model)."""
    path = script_path()
    if path is None:
        return None
    from agent.scripted import ScriptedModel

    return ScriptedModel(load_script(path))


def preload() -> threading.Thread:
    """Import the runtime in the background (LangChain takes a while), so the first turn starts at once."""

    def load() -> None:
        with contextlib.suppress(Exception):  # the turn that needs it imports it again and reports the failure
            import agent.runtime  # noqa: F401

    thread = threading.Thread(target=load, name="agent-preload", daemon=True)
    thread.start()
    return thread


def run_turn(message: str, *, model: Any, session_id: str | None, profile: str = "operator",
             customer_id: str | None = None, actor: str = "operator", confirm: bool = False,
             on_event: Callable[[AgentEvent], None] = lambda e: None) -> TurnResult:
    """One turn through `agent.runtime.run_turn`."""
    from agent.runtime import run_turn as turn

    return turn(message, session_id=session_id, profile=profile, customer_id=customer_id, actor=actor,
                model=model, confirm=confirm, on_event=on_event)
