"""Every assertion operator, on values found by JSONPath, with the failure it reports."""

from __future__ import annotations

import pytest

from cli.scenario.assertions import check, check_all
from cli.scenario.schema import Assertion
from cli.scenario.variables import MISSING

DOC = {"state": "active", "count": 3, "price": 25.0, "opened": "2026-03-01T10:00:00Z", "tags": ["a", "b"],
       "empty": None, "note": [{"author": "system", "text": "payment.declined: card_declined"},
                               {"author": "ops", "text": "retried"}],
       "chars": [{"name": "msisdn", "value": "90000001"}, {"name": "periodNumber", "value": 2}]}


def _check(**spec):
    return check(Assertion.model_validate(spec), DOC)


@pytest.mark.parametrize(("spec", "holds"), [
    ({"path": "state", "eq": "active"}, True), ({"path": "state", "eq": "blocked"}, False),
    ({"path": "price", "eq": 25}, True), ({"path": "empty", "eq": None}, True),
    ({"path": "state", "ne": "blocked"}, True), ({"path": "state", "ne": "active"}, False),
    ({"path": "nothing", "ne": "x"}, True),
    ({"path": "count", "gt": 2}, True), ({"path": "count", "gt": 3}, False),
    ({"path": "count", "gte": 3}, True), ({"path": "count", "gte": 4}, False),
    ({"path": "count", "lt": 4}, True), ({"path": "count", "lt": 3}, False),
    ({"path": "count", "lte": 3}, True), ({"path": "count", "lte": 2}, False),
    ({"path": "opened", "gt": "2026-02-28"}, True), ({"path": "opened", "lt": "2026-02-28"}, False),
    ({"path": "state", "in": ["active", "blocked"]}, True), ({"path": "state", "in": ["terminated"]}, False),
    ({"path": "tags", "contains": "b"}, True), ({"path": "tags", "contains": "z"}, False),
    ({"path": "note[0].text", "contains": "declined"}, True), ({"path": "state", "contains": "x"}, False),
    ({"path": "state", "starts_with": "act"}, True), ({"path": "state", "starts_with": "ive"}, False),
    ({"path": "state", "not_null": True}, True), ({"path": "empty", "not_null": True}, False),
    ({"path": "note", "any_match": {"path": "author", "eq": "ops"}}, True),
    ({"path": "note", "any_match": [{"path": "author", "eq": "system"}, {"path": "text", "eq": "retried"}]}, False),
    ({"path": "note", "any_match": [{"path": "author", "eq": "ops"}, {"path": "text", "starts_with": "retr"}]},
     True),
    ({"path": "note", "none_match": {"path": "author", "eq": "nobody"}}, True),
    ({"path": "note", "none_match": {"path": "text", "contains": "declined"}}, False),
    ({"path": "tags", "none_match": []}, False),  # no inner check: every item matches
    ({"path": "chars[?(@.name == 'periodNumber')].value", "eq": 2}, True),
    ({"path": "note[*].author", "eq": ["system", "ops"]}, True),
])
def test_operators(spec, holds):
    assert (_check(**spec) is None) is holds


def test_a_failure_carries_expected_and_actual():
    failure = _check(path="count", gt=10)
    assert (failure.check, failure.expected, failure.actual) == ("count gt", 10, 3)
    assert failure.message == "expected count gt 10, got 3"
    assert failure.as_dict() == {"check": "count gt", "expected": 10, "actual": 3, "message": failure.message}


def test_a_path_with_nothing_fails_every_operator_but_ne():
    failure = _check(path="missing.field", eq=None)
    assert failure.actual is MISSING and failure.message == "nothing at missing.field"
    assert failure.as_dict()["actual"] is None
    assert _check(path="missing", not_null=True).message == "nothing at missing"


def test_type_mismatches_fail_with_the_reason():
    assert "cannot order str against int" in _check(path="state", gt=1).message
    assert "starts_with needs text" in _check(path="count", starts_with="3").message
    assert "contains needs text, a list or an object" in _check(path="count", contains=3).message
    assert "any_match needs a list at state" in _check(path="state", any_match={"path": "x", "eq": 1}).message
    none = _check(path="note", any_match={"path": "author", "eq": "nobody"})
    assert none.message == "no item of note (2 items) has author eq 'nobody'"
    some = _check(path="note", none_match={"path": "author", "eq": "ops"})
    assert some.message == "1 item(s) of note have author eq 'ops'" and some.actual == [DOC["note"][1]]


def test_check_all_returns_the_first_failure():
    checks = [Assertion.model_validate(a) for a in ({"path": "state", "eq": "active"}, {"path": "count", "eq": 4},
                                                    {"path": "price", "eq": 0})]
    assert check_all(checks, DOC).check == "count eq"
    assert check_all(checks[:1], DOC) is None
