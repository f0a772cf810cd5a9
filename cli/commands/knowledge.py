"""`bss knowledge search "…"`: the operations handbook's runbooks that answer a question, with their anchors."""

from __future__ import annotations

import re
from typing import Any

import typer
from rich.console import Group, RenderableType
from rich.text import Text

_MATCH = re.compile(r"\*\*(.+?)\*\*")


def snippet_text(snippet: str) -> Text:
    """The API's snippet with its `**matched**` words in bold (the text itself is never read as markup)."""
    text, last = Text(), 0
    for match in _MATCH.finditer(snippet):
        text.append(snippet[last:match.start()])
        text.append(match.group(1), style="bold yellow")
        last = match.end()
    text.append(snippet[last:])
    return text


def knowledge_card(hits: list[dict[str, Any]], values: dict[str, Any]) -> RenderableType:
    """One card per section found, best first: title, citation (document#anchor), snippet, rank."""
    from rich.markdown import Markdown

    from cli.render.style import card

    if not hits:
        return card("Handbook", Text(f"no section of the handbook matches “{values['query']}”", style="dim"))
    cards: list[RenderableType] = []
    for number, hit in enumerate(hits, start=1):
        head = Text.assemble(("anchor ", "dim"), (f"#{hit['anchor']}", "cyan"), ("   cite ", "dim"),
                             (hit["citation"], "cyan"), ("   rank ", "dim"), f"{hit['rank']:.3f}")
        parts: list[RenderableType] = [head, snippet_text(hit["snippet"])]
        if hit.get("body"):
            parts += [Text(""), Markdown(hit["body"])]
        cards.append(card(f"{number}. {hit['title']}", Group(*parts)))
    return Group(*cards)


def register(app: typer.Typer) -> None:
    """Add the `knowledge` group to `app`."""
    from cli.operation_command import register_group
    from operations import knowledge as ops

    register_group(app, "knowledge", "The operations handbook (docs/HANDBOOK.md): search its runbooks.",
                   [("search", ops.search, knowledge_card)])
