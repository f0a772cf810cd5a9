"""Print an agent turn's events as they happen: streamed tokens, a line per tool call, then its card.

Shared by the REPL and `bss ask` (the `on_event` callback of `agent.runtime.run_turn`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.render import agent as cards

if TYPE_CHECKING:
    from rich.console import Console

    from agent.events import AgentEvent


class EventPrinter:
    """An `on_event` callback that renders each event on `console`; `confirm_hint` says how to confirm."""

    def __init__(self, console: Console, confirm_hint: str = "") -> None:
        self.console = console
        self.confirm_hint = confirm_hint
        self._mid_line = False   # streamed tokens left the cursor after text
        self._streamed = False   # this model answer arrived as tokens (FINAL then repeats them)
        self._proposed = False   # a proposal card was shown this turn

    def _end_line(self) -> None:
        if self._mid_line:
            self.console.print()
            self._mid_line = False

    def __call__(self, event: AgentEvent) -> None:
        """Render one event."""
        from agent.events import EventKind

        kind = event.kind
        if kind == EventKind.TOKEN:
            if event.text:
                self.console.print(event.text, end="", markup=False, highlight=False, soft_wrap=True)
                self.console.file.flush()
                self._mid_line = not event.text.endswith("\n")
                self._streamed = True
            return
        self._end_line()
        if kind == EventKind.TOOL_START:
            self._streamed = False  # the model's next answer streams anew
            self.console.print(cards.tool_line(event.operation, event.args))
        elif kind == EventKind.TOOL_END:
            if event.error:
                self.console.print(cards.tool_failed_line(event.operation, event.error))
            else:
                self.console.print(cards.result_card(event.operation, event.result, event.args))
        elif kind == EventKind.PROPOSAL:
            self._proposed = True
            self.console.print(cards.proposal_card(event.operation, event.args, _description(event.operation),
                                                   self.confirm_hint))
        elif kind == EventKind.STOPPED:
            self.console.print(cards.stopped_line(event.reason or event.text))
        elif kind == EventKind.ESCALATED:
            details = event.result if isinstance(event.result, dict) else {}
            self.console.print(cards.escalated_line(details.get("category") or event.reason,
                                                    details.get("case_id") or event.text))
        elif kind == EventKind.FINAL:
            # After a proposal the card says it all; an answer of the model's own has streamed already.
            if event.text and not self._streamed and not self._proposed:
                self.console.print(event.text, markup=False, highlight=False)
            self._streamed = self._proposed = False
        self.console.file.flush()

    def done(self) -> None:
        """End the turn's output on a fresh line."""
        self._end_line()
        self._streamed = False


def _description(operation: str) -> str:
    from operations.registry import load_all

    op = load_all().get(operation)
    return op.description if op else ""
