"""Knowledge: search the operations handbook (docs/HANDBOOK.md) and cite the runbook that answers."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from core.scopes import Scope
from operations.registry import Client, Input, operation

KNOWLEDGE = "/ops-api/v1/knowledge"


class Search(Input):
    """What to look for in the handbook."""

    query: str = Field(min_length=1, max_length=400, description="What to look for, e.g. 'how do I rotate a token'.")
    limit: int = Field(default=5, ge=1, le=20, description="At most this many sections.")
    full: bool = Field(default=False, description="Also answer each section's whole markdown (body).")

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give the words to search the handbook for")
        return value


@operation("knowledge.search", scope=Scope.OPS_TRACE, routes=[f"GET {KNOWLEDGE}"], arguments=("query",),
           result="list")
def search(client: Client, args: Search) -> Any:
    """Search the operations handbook; each hit cites its runbook as docs/HANDBOOK.md#anchor.

    Best first: title, a snippet with the matched words in **, and the citation to quote.
    For "how do I …" questions about running the stack.
    """
    return client.request("GET", KNOWLEDGE, params={"q": args.query, "limit": args.limit,
                                                    "full": str(args.full).lower()})
