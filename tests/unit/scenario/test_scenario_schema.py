"""The scenario schema: what a valid file looks like and how a broken one is reported (file + step)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from cli.scenario.loader import ScenarioError, find_files, load, load_all
from cli.scenario.schema import Assertion, Scenario, Step, parse_duration


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_minimal_scenario_validates_with_defaults():
    scenario = Scenario.model_validate({"name": "s", "steps": [{"cli": "catalog list"}]})
    assert scenario.setup.reset is True and scenario.tags == [] and scenario.steps[0].kind == "cli"


def test_step_kinds_and_shorthands():
    api = Step.model_validate({"api": "post /tmf-api/x", "status": 201})
    assert (api.kind, api.api.method, api.api.path, api.api.surface) == ("api", "POST", "/tmf-api/x", "cli")
    http = Step.model_validate({"http": "http://127.0.0.1:9/health"})
    assert (http.kind, http.http.method, http.http.url) == ("http", "GET", "http://127.0.0.1:9/health")
    assert Step.model_validate({"advance": "30d"}).title(0) == "advance 30d"
    assert Step.model_validate({"sleep": "500ms"}).sleep == 0.5


@pytest.mark.parametrize(("step", "message"), [
    ({"name": "x"}, "exactly one of cli, api, http, advance, sleep, ask (found: none)"),
    ({"cli": "a", "advance": "1d"}, "found: cli, advance"),
    ({"cli": "a", "status": 200}, "status applies to api and http steps"),
    ({"api": "GET /x", "exit_code": 0}, "exit_code applies to cli steps"),
    ({"advance": "thirty days"}, "is not a duration"),
    ({"cli": "a", "poll": {"interval": "fast"}}, "is not a duration"),
    ({"cli": "a", "retries": 3}, "Extra inputs are not permitted"),
    ({"cli": "a", "capture": {"x": "$.a["}}, "bad JSONPath"),
])
def test_broken_steps_are_refused_with_the_reason(step, message):
    with pytest.raises(ValidationError) as err:
        Step.model_validate(step)
    assert message in str(err.value)


def test_an_assertion_takes_exactly_one_operator():
    with pytest.raises(ValidationError, match="exactly one operator"):
        Assertion.model_validate({"path": "a"})
    with pytest.raises(ValidationError, match=r"found: eq, ne"):
        Assertion.model_validate({"path": "a", "eq": 1, "ne": 2})
    explicit_null = Assertion.model_validate({"path": "a", "eq": None})
    assert (explicit_null.operator, explicit_null.expected) == ("eq", None)
    assert Assertion.model_validate({"path": "a", "in": [1, 2]}).expected == [1, 2]
    one = Assertion.model_validate({"path": "items", "any_match": {"path": "id", "eq": 3}})
    assert one.operator == "any_match" and one.expected[0].path == "id"


def test_durations():
    assert parse_duration(2) == 2.0
    assert parse_duration("250ms") == 0.25
    assert parse_duration("1d12h") == 36 * 3600
    for bad in ("-1", "1x", True, -3):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_loader_names_the_file_and_the_step(tmp_path):
    path = _write(tmp_path, "bad.yaml", """
name: bad
steps:
  - name: fine
    cli: catalog list
  - name: the broken one
    cli: catalog list
    assert:
      - {path: state, eq: 1, ne: 2}
""")
    with pytest.raises(ScenarioError) as err:
        load(path)
    assert err.value.path == path
    assert err.value.problems == [("step 2 (the broken one): assert.0: an assertion takes exactly one operator of "
                                  "eq, ne, gt, gte, lt, lte, in, contains, starts_with, not_null, any_match, "
                                   "none_match (found: eq, ne)")]


def test_loader_reports_yaml_errors_and_non_mappings(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read YAML"):
        load(_write(tmp_path, "a.yaml", "name: [unclosed"))
    with pytest.raises(ScenarioError, match="a scenario is a mapping"):
        load(_write(tmp_path, "b.yaml", "- just a list"))
    with pytest.raises(ScenarioError, match="steps: List should have at least 1 item"):
        load(_write(tmp_path, "c.yaml", "name: empty\nsteps: []"))


def test_includes_expand_with_parameters_and_leave_run_variables(tmp_path):
    _write(tmp_path, "_parts/customer.yaml", """
params: {card: "4242", given: null}
steps:
  - name: create {{given}}
    cli: customer create --given {{given}} --email {{given}}.{{run}}@example.com
  - cli: payment add-card {{customer}} --number {{card}}
""")
    path = _write(tmp_path, "s.yaml", """
name: s
steps:
  - include: _parts/customer.yaml
    with: {given: Ada}
  - cli: catalog list
""")
    steps = load(path).scenario.steps
    assert [s.cli for s in steps] == ["customer create --given Ada --email Ada.{{run}}@example.com",
                                      "payment add-card {{customer}} --number 4242", "catalog list"]
    assert steps[0].name == "create Ada"
    missing = _write(tmp_path, "m.yaml", "name: m\nsteps:\n  - include: _parts/customer.yaml\n")
    with pytest.raises(ScenarioError, match=r"step 1 \(include _parts/customer.yaml\): give a value for given"):
        load(missing)
    nowhere = _write(tmp_path, "n.yaml", "name: n\nsteps:\n  - include: nope.yaml\n")
    with pytest.raises(ScenarioError, match="cannot read the fragment"):
        load(nowhere)


def test_find_and_filter_by_tag_skipping_fragments(tmp_path):
    _write(tmp_path, "b.yaml", "name: b\ntags: [hero]\nsteps: [{cli: x}]")
    _write(tmp_path, "a.yml", "name: a\nsteps: [{cli: x}]")
    _write(tmp_path, "_fragments/f.yaml", "steps: [{cli: x}]")
    _write(tmp_path, "broken.yaml", "name: broken")
    assert [p.name for p in find_files(tmp_path)] == ["a.yml", "b.yaml", "broken.yaml"]
    loaded, broken = load_all(tmp_path, tag="hero")
    assert [i.scenario.name for i in loaded] == ["b"]
    assert [b.path.name for b in broken] == ["broken.yaml"]
    with pytest.raises(FileNotFoundError):
        find_files(tmp_path / "missing")


def test_the_hero_scenarios_in_the_repository_are_valid():
    loaded, broken = load_all(Path(__file__).resolve().parents[3] / "scenarios", tag="hero")
    assert broken == []
    assert len(loaded) >= 12


def test_an_ask_step_takes_a_script_of_tool_calls_and_answers():
    step = Step.model_validate({"ask": {"message": "data stopped", "profile": "customer", "customer": "CUST-000001",
                                        "script": [{"tool": "subscription.show", "args": {"subscription_id": "SUB-1"}},
                                                   {"say": "done"}]}})
    assert step.kind == "ask" and step.title(0) == "ask: data stopped"
    with pytest.raises(ValueError, match="needs `customer:`"):
        Step.model_validate({"ask": {"message": "x", "profile": "customer", "script": [{"say": "hi"}]}})
    with pytest.raises(ValueError, match="a script move is"):
        Step.model_validate({"ask": {"message": "x", "script": [{"run": "a.b"}]}})
