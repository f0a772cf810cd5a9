"""Variable substitution and JSONPath captures."""

from __future__ import annotations

import pytest

from cli.scenario.variables import MISSING, PathError, VariableError, capture, resolve, substitute

VARS = {"customer": "CUST-000001", "count": 3, "line": {"id": "SUB-000002", "msisdns": ["9001", "9002"]}}


def test_placeholders_in_text_and_whole_values_keep_their_type():
    assert substitute("bss customer show {{customer}}", VARS) == "bss customer show CUST-000001"
    assert substitute("{{ count }}", VARS) == 3
    assert substitute("n={{count}}", VARS) == "n=3"
    assert substitute("{{line}}", VARS) == VARS["line"]
    assert substitute("{{line.id}} {{line.msisdns.1}}", VARS) == "SUB-000002 9002"
    assert substitute({"a": ["{{customer}}", 1, None], "{{customer}}": True}, VARS) == {
        "a": ["CUST-000001", 1, None], "CUST-000001": True}


def test_unknown_variables_are_errors_naming_what_is_defined():
    with pytest.raises(VariableError, match=r"unknown variable 'order' \(defined so far: count, customer, line\)"):
        substitute("{{order}}", VARS)
    with pytest.raises(VariableError, match="'nope' is not in"):
        substitute("{{line.nope}}", VARS)


def test_partial_substitution_leaves_unknown_placeholders():
    assert substitute("{{customer}} {{later}}", VARS, partial=True) == "CUST-000001 {{later}}"


def test_resolve_single_several_and_no_match():
    doc = {"items": [{"id": 1, "kind": "a"}, {"id": 2, "kind": "b"}], "state": "x"}
    assert resolve("$", doc) is doc
    assert resolve("state", doc) == "x"
    assert resolve("$.items[*].id", doc) == [1, 2]
    assert resolve("items[?(@.kind == 'b')].id", doc) == 2
    assert resolve("items[5]", doc) is MISSING
    with pytest.raises(PathError, match="bad JSONPath"):
        resolve("items[", doc)


def test_captures_take_values_and_refuse_empty_paths():
    doc = {"id": "ORD-000001", "productOrderItem": [{"product": {"id": "SUB-000001"}}]}
    assert capture({"order": "id", "line": "productOrderItem[0].product.id"}, doc) == {
        "order": "ORD-000001", "line": "SUB-000001"}
    with pytest.raises(VariableError, match=r"capture 'x': nothing at \$.nope"):
        capture({"x": "$.nope"}, doc)
