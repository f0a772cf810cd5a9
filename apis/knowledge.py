"""The operations handbook, searchable: `GET /ops-api/v1/knowledge?q=…&limit=&full=`.

Answers the handbook sections (docs/HANDBOOK.md, loaded by `bss seed`) that match `q`, best first:
each with its `anchor`, `title`, a `snippet` (the matched words in `**`), its `rank` and the
`citation` to quote (`docs/HANDBOOK.md#stuck-orders`); `full=true` adds each section's markdown
(`body`). No match is an empty list; a blank `q` is 400 `knowledge.search.query_required`.

Behind `ops:trace`, the read-only operations scope: the cli, CSR and agent (operator profile)
surfaces hold it, a customer-bound call does not (the handbook is for the people running the stack).
"""

from __future__ import annotations

from fastapi import Query
from fastapi.responses import JSONResponse

from activities.knowledge import MAX_LIMIT, search
from apis.routing import BssRouter
from core.errors import MalformedRequest
from core.scopes import Scope

router = BssRouter(prefix="/ops-api/v1/knowledge", tags=["knowledge"])


@router.get("", scope=Scope.OPS_TRACE)
async def search_knowledge(
    q: str = Query(default="", max_length=400, description="What to look for, in plain words or a web-search "
                   "style query (\"exact phrase\", -word, or)."),
    limit: int = Query(default=5, ge=1, le=MAX_LIMIT, description="At most this many sections."),
    full: bool = Query(default=False, description="Also answer each section's whole markdown (`body`)."),
) -> JSONResponse:
    """Handbook sections matching `q`, best first, each with its anchor, snippet, rank and citation."""
    if not q.strip():
        raise MalformedRequest("knowledge.search.query_required", "q: give the words to search the handbook for",
                               {"field": "q"})
    return JSONResponse(await search(q, limit=limit, full=full))
