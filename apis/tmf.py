"""TMF Open API conventions shared by every facade: hrefs, lists, field selection, filters, sort.

List = bare JSON array + `X-Total-Count` / `X-Result-Count`; `fields` keeps `id`, `href` and
`@type` always; `offset`/`limit` page. Filtering follows TMF630: `attr=value` (a comma means "any
of"), `attr.gt|gte|lt|lte|ne|eq=value` on any first-level attribute or dotted sub-attribute (a list
along the path matches when any element does), and `sort=-lastUpdate,name`.

One implementation serves every collection, in two tiers. An equality filter on an attribute the
router declares (`filterable`) is pushed into its store query, as before, so the common filters stay
indexed look-ups. Anything else — an attribute the router does not know, an operator, a value list,
`sort` — is a `Refinement`: the router is asked for its whole (pushed-down) result, at most
`SCAN_LIMIT` rows, and `list_response` filters, sorts and pages the rendered bodies. The rendered body
is what the client sees, so a filter always means what the response says, whatever the store holds.
A refinement over more rows than the scan limit is refused (422 `request.list.too_broad`) rather than
answered wrongly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from apis.ownership import LIST_OWNER
from core.errors import MalformedRequest, PolicyViolation, Violation

JSON_TYPE = "application/json;charset=utf-8"
ALWAYS_KEPT = ("id", "href", "@type")
RESERVED = {"fields", "offset", "limit", "sort"}
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
# Rows a refinement may scan; a bigger pushed-down result needs a narrower filter the store can apply.
SCAN_LIMIT = 5000
COUNT_HEADERS = ("X-Total-Count", "X-Result-Count")
# What a bound list filters on when the caller asked for another customer's rows: it matches no row.
NO_ROW = "none-of-yours"
OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte")
_SEGMENT = re.compile(r"^@?[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Condition:
    """One TMF630 attribute filter: a dotted path, an operator and the values it accepts."""

    path: tuple[str, ...]
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class SortKey:
    """One `sort` key: a dotted path, descending when written with a leading `-`."""

    path: tuple[str, ...]
    descending: bool


@dataclass(frozen=True)
class Refinement:
    """Filters and sort applied to rendered bodies, and the page the caller asked for."""

    conditions: tuple[Condition, ...]
    sort: tuple[SortKey, ...]
    offset: int
    limit: int


@dataclass(frozen=True)
class ListQuery:
    """The parsed paging, selection and filter parameters of a TMF list request."""

    offset: int
    limit: int
    fields: tuple[str, ...] | None
    filters: dict[str, str]
    refine: Refinement | None = None


def parse_list_query(request: Request, filterable: Iterable[str]) -> ListQuery:
    """Parse `fields`, paging, TMF630 filters and `sort`; push declared equality filters down; bind to the caller's customer."""
    params = request.query_params
    offset = _non_negative_int(params.get("offset", "0"), "offset")
    limit = _non_negative_int(params.get("limit", str(DEFAULT_LIMIT)), "limit")
    if not 1 <= limit <= MAX_LIMIT:
        raise MalformedRequest("request.malformed", f"limit must be between 1 and {MAX_LIMIT}", {"field": "limit"})
    fields = tuple(f.strip() for f in params["fields"].split(",") if f.strip()) if "fields" in params else None
    allowed = set(filterable)
    pairs = [(k, v) for k, v in params.multi_items() if k not in RESERVED]
    repeated = {k for k, _ in pairs if sum(1 for other, _ in pairs if other == k) > 1}
    filters: dict[str, str] = {}
    conditions: list[Condition] = []
    for key, value in pairs:
        if key in allowed and key not in repeated and "," not in value:
            filters[key] = value
        else:
            conditions.append(_condition(key, value))
    sort = _sort_keys(params["sort"]) if params.get("sort") else ()
    owner = request.scope.get(LIST_OWNER)
    if owner is not None:  # a call on behalf of a customer sees that customer's rows only (apis/routing.py)
        key, value = owner
        filters[key] = value if filters.get(key, value) == value else NO_ROW
    if not conditions and not sort:
        return ListQuery(offset=offset, limit=limit, fields=fields, filters=filters)
    refine = Refinement(conditions=tuple(conditions), sort=sort, offset=offset, limit=limit)
    return ListQuery(offset=0, limit=SCAN_LIMIT, fields=fields, filters=filters, refine=refine)


def _condition(key: str, value: str) -> Condition:
    """`attr.sub.op=value` → a Condition; a malformed attribute path is a 400."""
    segments = key.split(".")
    op = "eq"
    if len(segments) > 1 and segments[-1] in OPERATORS:
        op = segments.pop()
    if not all(_SEGMENT.match(s) for s in segments):
        raise MalformedRequest("request.malformed", f"'{key}' is not an attribute filter (attr[.sub][.gt|gte|lt|lte|ne|eq])",
                               {"field": key})
    # A comma lists alternatives (TMF630); the whole value stays one of them, for text that holds commas.
    values = (value, *value.split(",")) if op in ("eq", "ne") and "," in value else (value,)
    return Condition(path=tuple(segments), op=op, values=values)


def _sort_keys(raw: str) -> tuple[SortKey, ...]:
    keys = []
    for part in (p.strip() for p in raw.split(",")):
        descending = part.startswith("-")
        path = part.lstrip("+-").split(".")
        if not part or not all(_SEGMENT.match(s) for s in path):
            raise MalformedRequest("request.malformed", f"sort takes attributes, '-' for descending: '{raw}'",
                                   {"field": "sort"})
        keys.append(SortKey(path=tuple(path), descending=descending))
    return tuple(keys)


def _non_negative_int(raw: str, name: str) -> int:
    if not raw.isdigit():
        raise MalformedRequest("request.malformed", f"{name} must be a non-negative integer", {"field": name})
    return int(raw)


def _values_at(body: Any, path: tuple[str, ...]) -> Iterator[Any]:
    """Every value at `path`, looking into each element of a list met on the way."""
    if isinstance(body, list):
        for element in body:
            yield from _values_at(element, path)
        return
    if not path:
        yield body
        return
    if isinstance(body, Mapping) and path[0] in body:
        yield from _values_at(body[path[0]], path[1:])


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def _instant(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _comparable(left: str, right: str) -> tuple[Any, Any]:
    """Compare as instants when both are ISO dates, as numbers when both are numbers, else as text."""
    for convert in (_instant, _number):
        a, b = convert(left), convert(right)
        if a is not None and b is not None:
            return a, b
    return left, right


def _holds(value: Any, op: str, wanted: str) -> bool:
    text = _scalar_text(value)
    if text is None:
        return False
    a, b = _comparable(text, wanted)
    return {"eq": a == b, "ne": a != b, "gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]


def matches(body: Mapping[str, Any], condition: Condition) -> bool:
    """Whether a rendered body satisfies one TMF630 condition (`ne`: no value at the path equals any given)."""
    found = list(_values_at(body, condition.path))
    if condition.op == "ne":
        return not any(_holds(v, "eq", w) for v in found for w in condition.values)
    return any(_holds(v, condition.op, w) for v in found for w in condition.values)


def _sort_value(body: Mapping[str, Any], path: tuple[str, ...]) -> tuple[int, Any]:
    """A total order: instants, then numbers, then text; bodies without the attribute last."""
    text = next((t for t in map(_scalar_text, _values_at(body, path)) if t is not None), None)
    if text is None:
        return (3, "")
    if (moment := _instant(text)) is not None:
        return (0, moment)
    if (number := _number(text)) is not None:
        return (1, number)
    return (2, text)


def refine(items: list[Mapping[str, Any]], total: int, refinement: Refinement) -> tuple[list[Mapping[str, Any]], int]:
    """Filter, sort and page rendered bodies; refuse when the store's result was cut at the scan limit."""
    if total > len(items):
        raise PolicyViolation(Violation(
            "request.list.too_broad",
            f"this filter or sort is applied to at most {SCAN_LIMIT} rows and {total} match the rest of the query: "
            "narrow it with an equality filter on an indexed attribute (e.g. id, state, relatedParty.id)",
            {"rows": total, "scanLimit": SCAN_LIMIT}))
    kept = [item for item in items if all(matches(item, c) for c in refinement.conditions)]
    for key in reversed(refinement.sort):  # stable sorts from the last key to the first
        present = [i for i in kept if _sort_value(i, key.path)[0] < 3]
        absent = [i for i in kept if _sort_value(i, key.path)[0] == 3]
        present.sort(key=lambda i, p=key.path: _sort_value(i, p), reverse=key.descending)
        kept = present + absent
    return kept[refinement.offset:refinement.offset + refinement.limit], len(kept)


def select_fields(body: Mapping[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    """Keep only the requested top-level attributes (plus id, href, @type)."""
    if not fields:
        return dict(body)
    keep = set(fields) | set(ALWAYS_KEPT)
    return {k: v for k, v in body.items() if k in keep}


class EntityRef(BaseModel):
    """A TMF reference in a request body (`id`; `href`, `name`, `@referredType` allowed and not read)."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, max_length=100)


class TmfJSONResponse(JSONResponse):
    """A JSON response with the TMF content type, encoded by orjson (compact UTF-8, like Starlette's)."""

    media_type = JSON_TYPE

    def render(self, content: Any) -> bytes:
        """Encode `content`; the standard encoder was ~7 % of a catalog list's CPU."""
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def tmf_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A JSON response with the TMF content type."""
    return TmfJSONResponse(body, status_code=status, headers=dict(headers or {}))


def list_response(items: list[Mapping[str, Any]], total: int, query: ListQuery) -> JSONResponse:
    """A TMF list: bare array of (refined, field-selected) items with the count headers."""
    if query.refine is not None:
        items, total = refine(items, total, query.refine)
    selected = [select_fields(item, query.fields) for item in items]
    total_header, result_header = COUNT_HEADERS
    return tmf_response(selected, headers={total_header: str(total), result_header: str(len(selected))})


def href(request: Request, path: str) -> str:
    """Absolute URL of a resource path, on the host the client called."""
    return f"{str(request.base_url).rstrip('/')}{path}"


def ref(request: Request, path: str, ident: str, referred_type: str, name: str | None = None) -> dict[str, Any]:
    """A TMF entity reference `{id, href, name, @referredType}`."""
    out: dict[str, Any] = {"id": ident, "href": href(request, f"{path}/{ident}"), "@referredType": referred_type}
    if name is not None:
        out["name"] = name
    return out


def iso(value: Any) -> str | None:
    """Render a datetime as ISO 8601 with a `Z` suffix (None stays None)."""
    if value is None:
        return None
    text = value.isoformat()
    return text.replace("+00:00", "Z")
