"""The REPL cockpit: `bss` with no arguments (see `cli.repl.app` for what it does).

`main()` probes the stack's health in a thread while prompt_toolkit loads, prints the banner, and
reads lines until `/exit` or Ctrl-D. History is kept in `BSS_HOME/repl_history`.
"""

from __future__ import annotations

import threading
from typing import Any


def main() -> int:
    """Open the REPL; return its exit code."""
    from cli.output import console
    from core.settings import get_settings

    settings = get_settings()
    health: dict[str, Any] = {}

    def probe() -> None:
        from cli.repl.banner import stack_health

        health["rows"], health["api_up"] = stack_health(settings)

    prober = threading.Thread(target=probe, name="repl-health", daemon=True)
    prober.start()

    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    from cli.repl import agent_link
    from cli.repl.app import HELP, Repl
    from cli.repl.banner import banner
    from cli.repl.complete import ReplCompleter
    from operations.registry import load_all

    repl = Repl(console)
    prober.join()
    console.print(banner(settings, health.get("rows", []), health.get("api_up"), repl.agent_on,
                         agent_link.model_label() if repl.agent_on else "", agent_link.NO_MODEL))
    if repl.agent_on:  # LangChain loads while the operator types the first line
        agent_link.preload()
    settings.home.mkdir(parents=True, exist_ok=True)
    completer = ReplCompleter({name: what for name, (_args, what) in HELP.items()}, load_all,
                              lambda: list(reversed(repl.seen_sessions)))
    session: PromptSession[str] = PromptSession(history=FileHistory(str(settings.home / "repl_history")),
                                                completer=completer, complete_while_typing=False)
    while True:
        try:
            line = session.prompt(repl.prompt_text())
        except KeyboardInterrupt:
            continue  # Ctrl-C clears the line, as in a shell
        except EOFError:
            break
        if not repl.handle(line):
            break
    return 0
