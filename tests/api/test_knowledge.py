"""The operations handbook over real HTTP: `GET /ops-api/v1/knowledge` ranks runbooks by PostgreSQL
full-text search and cites them; the loader behind `bss seed` is idempotent and follows edits."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, text

from activities.knowledge import HANDBOOK_PATH, load_handbook
from domain import knowledge
from domain.audit import domain_event
from domain.knowledge import HANDBOOK, knowledge_section
from tests.conftest import client_for

KNOWLEDGE = "/ops-api/v1/knowledge"


async def _search(api_url: str, surface: str = "portal-csr", **params) -> list[dict]:
    async with client_for(api_url, surface) as client:
        response = await client.get(KNOWLEDGE, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_how_do_i_rotate_a_token_finds_the_token_rotation_runbook_first(api_url, seeded_db):
    hits = await _search(api_url, q="how do I rotate a token")
    top = hits[0]
    assert (top["anchor"], top["title"]) == ("rotating-api-tokens", "Rotating API tokens")
    assert top["citation"] == "docs/HANDBOOK.md#rotating-api-tokens" and top["source"] == HANDBOOK
    assert "**token" in top["snippet"].lower() and top["matchedAllWords"] is True
    assert top["rank"] > 0 and [h["rank"] for h in hits] == sorted((h["rank"] for h in hits), reverse=True)
    assert "body" not in top


async def test_stuck_order_finds_the_stuck_order_runbook_and_the_agent_surface_may_ask(api_url, seeded_db):
    hits = await _search(api_url, "agent", q="stuck order", limit=2, full="true")
    assert hits[0]["anchor"] == "stuck-orders" and len(hits) == 2
    assert "bss prov resolve" in hits[0]["body"] and hits[0]["citation"] == "docs/HANDBOOK.md#stuck-orders"


async def test_a_question_in_other_words_still_finds_its_runbook(api_url, seeded_db):
    # "running" and "out" are not in the number runbook: a section holding only some words still counts.
    assert (await _search(api_url, q="the number pool is running out"))[0]["anchor"] == "replenishing-the-number-pool"
    assert (await _search(api_url, q='"esim" batch'))[0]["anchor"] == "loading-esim-batches"


async def test_no_match_is_an_empty_list_and_a_blank_query_is_400(api_url, seeded_db):
    assert await _search(api_url, q="xylophone zeppelin") == []
    assert await _search(api_url, q="how do I") == []  # only stop words: nothing to match
    async with client_for(api_url, "portal-csr") as client:
        for params in ({}, {"q": ""}, {"q": "   "}):
            response = await client.get(KNOWLEDGE, params=params)
            assert response.status_code == 400, response.text
            assert response.json()["code"] == "knowledge.search.query_required"
        too_many = await client.get(KNOWLEDGE, params={"q": "token", "limit": 21})
        assert too_many.status_code == 400 and too_many.json()["code"] == "request.malformed"


async def test_customers_and_customer_bound_calls_cannot_read_the_handbook(api_url, seeded_db):
    for surface, headers in (("portal-self-serve", {"X-BSS-On-Behalf-Of": "CUST-000001"}),
                             ("agent", {"X-BSS-On-Behalf-Of": "CUST-000001"})):
        async with client_for(api_url, surface, **headers) as client:
            response = await client.get(KNOWLEDGE, params={"q": "token"})
        assert response.status_code == 403 and response.json()["code"] == "auth.scope.denied", (surface, response.text)


async def _rows(db) -> list[tuple]:
    """Every loaded section with its row version (xmin): a rewrite of an unchanged row would show."""
    async with db.connect() as conn:
        return [tuple(r) for r in await conn.execute(text(
            "SELECT anchor, xmin::text, loaded_at, content_hash, position FROM crm.knowledge_section ORDER BY anchor"))]


async def _events(db) -> int:
    async with db.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(domain_event))).scalar_one()


async def test_loading_twice_changes_nothing(seeded_db):
    # The seeded database was loaded by `bss seed`; loading the same handbook again writes nothing.
    before, events = await _rows(seeded_db), await _events(seeded_db)
    expected = len(knowledge.sections(HANDBOOK_PATH.read_text()))
    assert len(before) == expected
    for _ in range(2):
        again = await load_handbook()
        assert (again.expected, again.inserted, again.removed, again.changed) == (expected, 0, 0, False)
    assert await _rows(seeded_db) == before
    assert await _events(seeded_db) == events  # not even an audit row


async def test_an_edited_handbook_is_picked_up(seeded_db, api_url, tmp_path: Path):
    original = HANDBOOK_PATH.read_text()
    edited = original.replace("## Temporal outage\n", "## Temporal outage\n\nSee also the quokka drill.\n")
    edited = edited.replace("## Reading a trace\n", "## Reading a span tree\n")
    edited += "\n## Quokka drill\n\nOnce a quarter, switch the quokka off and on again: `bss status`.\n"
    path = tmp_path / "HANDBOOK.md"
    path.write_text(edited)
    untouched = {r[0]: r for r in await _rows(seeded_db)}["stuck-orders"]

    loaded = await load_handbook(path)

    # Written: the edited section, the renamed one (a new anchor) and the new one; the old anchor is gone.
    assert (loaded.inserted, loaded.removed) == (3, 1)
    rows = {r[0]: r for r in await _rows(seeded_db)}
    assert "reading-a-trace" not in rows and {"reading-a-span-tree", "quokka-drill"} <= set(rows)
    assert rows["stuck-orders"] == untouched
    hits = await _search(api_url, q="quokka")
    assert [h["anchor"] for h in hits] == ["quokka-drill", "temporal-outage"]
    async with seeded_db.connect() as conn:
        event = (await conn.execute(select(domain_event.c.payload).where(
            domain_event.c.event_type == "knowledge.handbook_loaded"))).scalars().all()[-1]
        sources = (await conn.execute(select(knowledge_section.c.source).distinct())).scalars().all()
    assert event["written"] == ["quokka-drill", "reading-a-span-tree", "temporal-outage"]
    assert event["removed"] == ["reading-a-trace"] and sources == [HANDBOOK]

    back = await load_handbook()  # the repository's handbook again: the edit is undone the same way
    assert (back.inserted, back.removed) == (2, 2)
    assert (await _search(api_url, q="quokka")) == []


def test_the_handbook_cuts_into_sections_with_github_anchors():
    found = knowledge.sections(HANDBOOK_PATH.read_text())
    anchors = [s.anchor for s in found]
    assert {"stuck-orders", "declined-renewals-and-blocked-lines", "charges-the-gateway-kept", "rotating-api-tokens",
            "replenishing-the-number-pool", "loading-esim-batches", "postgresql-outage", "temporal-outage",
            "advancing-scenario-time", "reading-a-trace", "escalated-cases"} <= set(anchors)
    assert knowledge.slug("Stuck orders: `bss workflow stuck`, 2 ways!") == "stuck-orders-bss-workflow-stuck-2-ways"
    # A `## ` inside a code block is not a heading.
    assert [s.title for s in knowledge.sections("## A\n```\n## not a heading\n```\n## B\ntext")] == ["A", "B"]
