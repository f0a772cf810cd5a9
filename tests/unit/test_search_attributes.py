"""The search attributes workflows upsert are exactly the ones every Temporal we run registers.

`workflows/search_attributes.py` declares the typed keys; `temporal-dev/search-attributes.txt` is
what `bss up`, the test fixtures and the compose namespace job register. A key missing from the
file fails at upsert time in production only, so the two are compared here, together with the
per-namespace limits of PostgreSQL (SQL) visibility (../shared/notes/temporal.md §3.7).
"""

from __future__ import annotations

from collections import Counter

from temporalio.api.enums.v1 import IndexedValueType

from core.temporal_dev import search_attributes
from workflows.search_attributes import ALL

# Per-namespace custom search attribute slots of SQL visibility (schema/postgresql/v12/visibility).
SQL_VISIBILITY_LIMITS = {
    "Keyword": 10, "Text": 3, "Int": 3, "Double": 3, "Bool": 3, "Datetime": 3, "KeywordList": 3,
}


def _type_name(indexed_value_type: int) -> str:
    """`INDEXED_VALUE_TYPE_KEYWORD_LIST` -> `KeywordList`, the spelling the CLI and our file use."""
    enum_name = IndexedValueType.Name(indexed_value_type).removeprefix("INDEXED_VALUE_TYPE_")
    return "".join(part.capitalize() for part in enum_name.split("_"))


def _declared() -> dict[str, str]:
    return {key.name: _type_name(key.indexed_value_type) for key in ALL}


def test_workflow_keys_have_unique_names() -> None:
    duplicates = [name for name, n in Counter(key.name for key in ALL).items() if n > 1]
    assert not duplicates, f"workflows/search_attributes.ALL declares {duplicates} more than once"


def test_workflow_keys_match_the_registered_file() -> None:
    declared, registered = _declared(), search_attributes()
    missing = sorted(declared.keys() - registered.keys())
    unused = sorted(registered.keys() - declared.keys())
    wrong_type = sorted(f"{name}: code {declared[name]}, file {registered[name]}"
                        for name in declared.keys() & registered.keys() if declared[name] != registered[name])
    assert not missing, f"declared in workflows/search_attributes.py but not in search-attributes.txt: {missing}"
    assert not unused, f"in search-attributes.txt but not declared in workflows/search_attributes.ALL: {unused}"
    assert not wrong_type, f"search attribute types disagree: {wrong_type}"


def test_registered_types_are_temporal_types() -> None:
    unknown = {name: kind for name, kind in search_attributes().items() if kind not in SQL_VISIBILITY_LIMITS}
    assert not unknown, f"unknown search attribute types in search-attributes.txt: {unknown}"


def test_fits_postgresql_visibility_limits() -> None:
    per_type = Counter(search_attributes().values())
    over = {kind: f"{n} > {SQL_VISIBILITY_LIMITS[kind]}" for kind, n in per_type.items()
            if kind in SQL_VISIBILITY_LIMITS and n > SQL_VISIBILITY_LIMITS[kind]}
    assert not over, f"more search attributes than PostgreSQL visibility allows per namespace: {over}"


def test_no_raw_msisdn_in_search_attributes() -> None:
    # Search attribute values are stored unencrypted and bypass payload codecs: lines go by LineRef.
    pii = [name for name in search_attributes() if "msisdn" in name.lower()]
    assert not pii, f"search attributes must not carry an MSISDN (personal data): {pii}"
