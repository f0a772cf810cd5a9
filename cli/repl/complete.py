"""Tab completion of the REPL: slash commands, operation names after `/run`, then that operation's options."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from operations.registry import Operation


class ReplCompleter(Completer):
    """Completes `/he` → `/help`, `/run cust` → `customer.…`, `/run customer.show X --j` → `--json`."""

    def __init__(self, commands: dict[str, str], operations: Callable[[], dict[str, Operation]],
                 sessions: Callable[[], list[str]] = list) -> None:
        self.commands = commands        # "/help" → its one-line help
        self.operations = operations    # the registry, asked for when first needed
        self.sessions = sessions        # recent session ids, for /resume

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        """Yield what fits the word before the cursor."""
        text = document.text_before_cursor
        if not text.startswith("/"):
            return
        words = text.split()
        current = "" if text.endswith(" ") else words[-1]
        position = -len(current)
        if len(words) == 1 and not text.endswith(" "):
            for name, help_text in self.commands.items():
                if name.startswith(current):
                    yield Completion(name, position, display_meta=help_text)
            return
        command = words[0]
        if command == "/run":
            from cli.repl.run_op import completions

            ops = self.operations()
            if len(words) == 1 or (len(words) == 2 and current):
                for name, op in sorted(ops.items()):
                    if name.startswith(current):
                        yield Completion(name, position, display_meta=op.description)
            elif words[1] in ops and current.startswith("-"):
                for flag in completions(ops[words[1]]):
                    if flag.startswith(current) and flag not in words:
                        yield Completion(flag, position)
        elif command == "/resume" and (len(words) == 1 or (len(words) == 2 and current)):
            for session_id in self.sessions():
                if session_id.startswith(current):
                    yield Completion(session_id, position)
