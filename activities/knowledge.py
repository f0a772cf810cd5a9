"""Load the operations handbook into PostgreSQL, and search it with full-text search.

`load_handbook_in(uow)` makes `crm.knowledge_section` hold exactly the `##` sections of
docs/HANDBOOK.md: a new section is inserted, an edited or moved one rewritten, a removed one deleted,
an unchanged one not touched (not even its `loaded_at`), so running it twice changes nothing, audit
included. It runs inside `bss seed` (`activities.seed.seed_in`), hence also in
`bss db reset --operational`; `load_handbook()` runs it in its own unit of work.

`search(q)` ranks sections with `ts_rank_cd` over the weighted `search` vector (title A, text B)
for any word of the question (its lexemes OR-ed), doubled for a section that holds every word (the
`websearch_to_tsquery` match): a question phrased with a word the handbook lacks still finds its
runbook, and one that matches whole is preferred. The snippet is `ts_headline` over the plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from activities.uow import UnitOfWork, unit_of_work
from core import clock
from core.db import get_engine
from core.settings import REPO_ROOT
from domain import knowledge
from domain.knowledge import HANDBOOK, knowledge_section

HANDBOOK_PATH = REPO_ROOT / HANDBOOK
MAX_LIMIT = 20
# ts_rank_cd normalisation 1: divide by 1 + log(length), so a long runbook does not win on size alone.
RANK_NORMALISATION = 1
EVERY_WORD_BONUS = 2  # a section holding every word of the question counts twice
HEADLINE = ('StartSel="**", StopSel="**", MaxWords=40, MinWords=15, ShortWord=2, MaxFragments=2, '
            'FragmentDelimiter=" … "')


@dataclass(frozen=True)
class HandbookLoad:
    """What loading did, in the shape of a seed dataset (`activities.seed.DatasetResult`)."""

    dataset: str
    expected: int  # sections in the document
    inserted: int  # sections written: new ones and edited or moved ones
    removed: int = 0  # rows of sections no longer in the document

    @property
    def already_present(self) -> int:
        """Sections that were already loaded as they are."""
        return self.expected - self.inserted

    @property
    def changed(self) -> bool:
        """True when the load wrote or deleted anything."""
        return bool(self.inserted or self.removed)


async def load_handbook(path: Path = HANDBOOK_PATH, source: str = HANDBOOK) -> HandbookLoad:
    """Load the handbook in its own audited transaction; an unchanged handbook writes nothing."""
    try:
        async with unit_of_work() as uow:
            result = await load_handbook_in(uow, path, source)
            if not uow.events:
                raise _Unchanged(result)  # nothing written, nothing to audit: roll the empty transaction back
    except _Unchanged as unchanged:
        return unchanged.result
    return result


class _Unchanged(Exception):
    def __init__(self, result: HandbookLoad) -> None:
        super().__init__("unchanged")
        self.result = result


async def load_handbook_in(uow: UnitOfWork, path: Path = HANDBOOK_PATH, source: str = HANDBOOK) -> HandbookLoad:
    """Make the rows of `source` the sections of the markdown at `path`, inside the caller's unit of work."""
    dataset = knowledge_section.fullname
    if not path.is_file():
        # An installed package without the docs (the container image): search finds what was loaded before.
        return HandbookLoad(dataset, 0, 0)
    sections = knowledge.sections(path.read_text(encoding="utf-8"))
    await uow.conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('bss.load_handbook'))"))
    now = clock.now()
    rows = [{"source": source, "anchor": s.anchor, "title": s.title, "position": s.position, "body": s.body,
             "content": s.content, "content_hash": s.content_hash, "loaded_at": now} for s in sections]
    statement = insert(knowledge_section)
    upsert = statement.on_conflict_do_update(
        index_elements=[knowledge_section.c.source, knowledge_section.c.anchor],
        set_={name: statement.excluded[name] for name in
              ("title", "position", "body", "content", "content_hash", "loaded_at")},
        # An unchanged section is left as it is: no new row version, no new loaded_at.
        where=knowledge_section.c.content_hash != statement.excluded.content_hash,
    ).returning(knowledge_section.c.anchor)
    written = sorted((await uow.conn.execute(upsert, rows)).scalars())
    anchors = [s.anchor for s in sections]
    removed = sorted((await uow.conn.execute(
        knowledge_section.delete()
        .where(knowledge_section.c.source == source, knowledge_section.c.anchor.not_in(anchors))
        .returning(knowledge_section.c.anchor))).scalars())
    if written or removed:
        uow.record("knowledge.handbook_loaded", "knowledge", source,
                   {"sections": len(sections), "written": written, "removed": removed})
    return HandbookLoad(dataset, len(sections), len(written), len(removed))


SEARCH = text(f"""
    WITH q AS (
        SELECT websearch_to_tsquery('{knowledge.TEXT_SEARCH_CONFIG}', :q) AS every_word,
               (SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | '))
                  FROM unnest(tsvector_to_array(to_tsvector('{knowledge.TEXT_SEARCH_CONFIG}', :q))) AS lexeme
               ) AS any_word
    )
    SELECT s.source, s.anchor, s.title,
           ts_rank_cd(s.search, q.any_word, {RANK_NORMALISATION})
             * CASE WHEN s.search @@ q.every_word THEN {EVERY_WORD_BONUS} ELSE 1 END AS rank,
           s.search @@ q.every_word AS every_word,
           ts_headline('{knowledge.TEXT_SEARCH_CONFIG}', s.content, q.any_word, :headline) AS snippet,
           s.body
      FROM crm.knowledge_section s, q
     WHERE q.any_word IS NOT NULL AND s.search @@ q.any_word
     ORDER BY rank DESC, s.position
     LIMIT :limit""")


async def search(q: str, limit: int = 5, full: bool = False) -> list[dict[str, Any]]:
    """The sections that answer `q`, best first: anchor, title, snippet, rank and citation (and body if `full`)."""
    async with get_engine().connect() as conn:
        rows = (await conn.execute(SEARCH, {"q": q, "limit": min(limit, MAX_LIMIT), "headline": HEADLINE}
                                   )).mappings().all()
    hits = []
    for row in rows:
        hit = {"anchor": row["anchor"], "title": row["title"], "source": row["source"],
               "citation": knowledge.citation(row["source"], row["anchor"]),
               "snippet": " ".join(row["snippet"].split()), "rank": round(float(row["rank"]), 4),
               "matchedAllWords": row["every_word"]}
        if full:
            hit["body"] = row["body"]
        hits.append(hit)
    return hits
