"""The operations handbook as searchable sections: its table, and how the markdown is cut into sections.

`docs/HANDBOOK.md` is cut at its `##` headings; each section is one row of `crm.knowledge_section`,
keyed by the document and the section's anchor. The anchor is GitHub's slug of the heading, so the
citation `docs/HANDBOOK.md#stuck-orders` opens the same place on GitHub as in the search answer.
The row keeps the markdown (`body`, what a reader is shown) and a plain-text rendering of it
(`content`, what is searched and quoted); `search` is a generated `tsvector` over the title (weight
A) and the content (weight B), behind a GIN index.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import (
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

from domain.metadata import metadata

HANDBOOK = "docs/HANDBOOK.md"  # the document's path in the repository: the citation's prefix
TEXT_SEARCH_CONFIG = "english"
SEARCH_VECTOR = ("setweight(to_tsvector('english'::regconfig, title), 'A'::\"char\")"
                 " || setweight(to_tsvector('english'::regconfig, content), 'B'::\"char\")")

knowledge_section = Table(
    "knowledge_section",
    metadata,
    Column("source", Text, nullable=False),
    Column("anchor", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("position", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("content_hash", Text, nullable=False),
    Column("search", TSVECTOR, Computed(SEARCH_VECTOR, persisted=True), nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("source", "anchor"),
    CheckConstraint("anchor ~ '^[a-z0-9_-]+$'", name="anchor_slug"),
    CheckConstraint("position >= 0", name="position_non_negative"),
    Index("ix_knowledge_section_search", "search", postgresql_using="gin"),
    schema="crm",
)


@dataclass(frozen=True)
class Section:
    """One `##` section of a markdown document."""

    anchor: str
    title: str
    position: int
    body: str

    @property
    def content(self) -> str:
        """The body as plain text: what is searched and what snippets quote."""
        return plain_text(self.body)

    @property
    def content_hash(self) -> str:
        """A digest of everything stored for the section, to tell an edited section from an unchanged one."""
        digest = hashlib.sha256()
        for part in (self.title, str(self.position), self.body):
            digest.update(part.encode())
            digest.update(b"\0")
        return digest.hexdigest()


_HEADING = re.compile(r"^##\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SLUG_DROP = re.compile(r"[^\w\- ]", re.UNICODE)


class HandbookError(ValueError):
    """The document cannot be cut into sections (no section, or two sections with one anchor)."""


def slug(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen."""
    text = re.sub(r"`([^`]*)`", r"\1", title).strip().lower()
    return _SLUG_DROP.sub("", text).replace(" ", "-")


def sections(markdown: str) -> list[Section]:
    """Cut `markdown` at its `##` headings (outside code blocks); the text before the first is left out."""
    found: list[tuple[str, list[str]]] = []
    in_code = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
        heading = None if in_code else _HEADING.match(line)
        if heading:
            found.append((heading.group(1), []))
        elif found:
            found[-1][1].append(line)
    if not found:
        raise HandbookError("the handbook has no '## ' section")
    result = [Section(slug(title), title, position, "\n".join(lines).strip())
              for position, (title, lines) in enumerate(found)]
    anchors = [s.anchor for s in result]
    twice = sorted({a for a in anchors if anchors.count(a) > 1})
    if twice:
        raise HandbookError(f"two sections share an anchor: {', '.join(twice)}")
    empty = [s.anchor for s in result if not s.anchor]
    if empty:
        raise HandbookError("a heading has no letters or digits to make an anchor from")
    return result


def plain_text(markdown: str) -> str:
    """Markdown without its markup: fences, heading marks, emphasis and link targets gone, code kept."""
    lines = []
    for line in markdown.splitlines():
        if _FENCE.match(line):
            continue
        line = re.sub(r"^\s*#{1,6}\s+", "", line)
        line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)  # [text](target) → text
        line = line.replace("**", "").replace("`", "")
        # PostgreSQL's text-search parser takes `<SURFACE>` for an HTML tag and drops it from snippets.
        line = line.replace("<", "‹").replace(">", "›")
        lines.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def citation(source: str, anchor: str) -> str:
    """How an answer cites a section: `docs/HANDBOOK.md#stuck-orders`."""
    return f"{source}#{anchor}"
