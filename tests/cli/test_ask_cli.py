"""`bss ask` through the real API: without a model it names the settings; with a scripted model
(`BSS_AGENT_SCRIPT`) one turn calls tools, prints their cards, proposes and (with --yes) confirms."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support.factories import ready_customer

CUSTOMER = "/tmf-api/customerManagement/v4/customer"
LLM_SETTINGS = ("BSS_LLM_BASE_URL", "BSS_LLM_MODEL", "BSS_LLM_API_KEY", "BSS_AGENT_SCRIPT")


@pytest.fixture
def no_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No model endpoint and no script in the settings."""
    from core.settings import get_settings

    for name in LLM_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_model: None) -> Iterator:
    """`script(steps)` writes the model's moves to a YAML file and names it in BSS_AGENT_SCRIPT."""
    import yaml

    from core.settings import get_settings

    def write(steps: list[dict]) -> Path:
        path = tmp_path / f"script-{len(list(tmp_path.iterdir()))}.yaml"
        path.write_text(yaml.safe_dump({"steps": steps}))
        monkeypatch.setenv("BSS_AGENT_SCRIPT", str(path))
        get_settings.cache_clear()
        return path

    yield write


def test_without_a_model_ask_exits_2_and_names_the_settings(no_model):
    from cli.main import app

    result = CliRunner().invoke(app, ["ask", "is SUB-000001 blocked?"])
    assert result.exit_code == 2, result.output
    flat = " ".join(result.output.split())
    assert "BSS_LLM_BASE_URL" in flat and "BSS_LLM_MODEL" in flat and "BSS_LLM_API_KEY" in flat
    as_json = CliRunner().invoke(app, ["ask", "hello", "--json"])
    assert as_json.exit_code == 2 and "BSS_LLM_BASE_URL" in as_json.output


async def test_ask_shows_each_tool_call_as_a_line_then_the_clis_card_then_the_answer(bss, seeded_api, script):
    customer_id = await ready_customer(seeded_api)
    name = (await seeded_api.get(f"{CUSTOMER}/{customer_id}")).json()["name"]
    script([{"tool": "customer.show", "args": {"customer_id": customer_id}},
            {"say": f"{name} is active and has no lines yet."}])
    result = await bss("ask", f"how is {customer_id} doing?")
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"▸ customer.show {customer_id}" in out
    card = await bss("customer", "show", customer_id)  # the very card `bss customer show` prints
    assert card.output.splitlines()[0] in out and f"customer {customer_id} · {name}" in out
    assert out.rstrip().endswith(f"{name} is active and has no lines yet.")
    assert '"customer"' not in out and "{" not in out  # no raw JSON anywhere


async def test_ask_json_prints_the_turn_result_with_the_apis_json_per_call(bss, seeded_api, script):
    customer_id = await ready_customer(seeded_api)
    script([{"tool": "customer.show", "args": {"customer_id": "CUST-999999999"}},  # refused: the model corrects it
            {"tool": "customer.show", "args": {"customer_id": customer_id}},
            {"say": "Found them."}])
    result = await bss("ask", "find the customer", "--json")
    assert result.exit_code == 0, result.output
    turn = json.loads(result.output)
    missing, found = turn["tool_calls"]
    assert missing["operation"] == "customer.show" and missing["error"]["code"].endswith("not_found")
    assert found["error"] is None and found["result"]["customer"]["id"] == customer_id
    assert turn["answer"] == "Found them." and turn["session_id"] and turn["stopped"] == "" and turn["proposal"] is None


async def test_a_destructive_proposal_runs_only_with_yes(bss, seeded_api, script):
    customer_id = await ready_customer(seeded_api, card=None)
    close = {"tool": "customer.close", "args": {"customer_id": customer_id, "reason": "customer asked"}}
    script([close, {"say": "I propose to close the account."}])
    proposed = await bss("ask", f"close {customer_id}")
    assert proposed.exit_code == 1, proposed.output
    assert "proposal · needs your confirm" in proposed.output and "customer.close" in proposed.output
    assert "run again with --yes to confirm it" in " ".join(proposed.output.split())
    assert (await seeded_api.get(f"{CUSTOMER}/{customer_id}")).json()["status"] == "active"  # nothing done

    script([close, {"say": "I propose to close the account."}, {"say": "Closed."}])
    confirmed = await bss("ask", f"close {customer_id}", "--yes", "--json")
    assert confirmed.exit_code == 0, confirmed.output
    turn = json.loads(confirmed.output)
    assert turn["confirmed"] == {"operation": "customer.close", "args": close["args"]}
    (ran,) = turn["tool_calls"]
    assert ran["operation"] == "customer.close" and ran["error"] is None and turn["answer"] == "Closed."
    assert (await seeded_api.get(f"{CUSTOMER}/{customer_id}")).json()["status"] == "closed"


async def test_ask_as_a_customer_offers_only_their_own_account(bss, seeded_api, script):
    customer_id = await ready_customer(seeded_api)
    script([{"tool": "customer.list", "args": {}},  # not a customer's tool: refused, the model moves on
            {"tool": "subscription.list", "args": {}},  # no customer id: bound from --customer
            {"say": "You have no lines yet."}])
    result = await bss("ask", "what lines do I have?", "--customer", customer_id, "--json")
    assert result.exit_code == 0, result.output
    turn = json.loads(result.output)
    unknown, lines = turn["tool_calls"]
    assert unknown["error"]["code"] == "agent.tool.unknown" and unknown["result"] is None
    assert unknown["operation"] == "customer.list"
    assert lines["operation"] == "subscription.list" and lines["error"] is None and lines["result"] == []
    assert turn["answer"] == "You have no lines yet."
    refused = await bss("ask", "hi", "--customer", "SUB-000001")
    assert refused.exit_code == 2 and "CUST-" in refused.output



async def test_trace_for_ask_renders_the_swimlane_of_a_sessions_turn(bss, seeded_api, seeded_db, spans, script):
    from core.span_store import span_row
    from tests.support.trace_fixture import insert_spans

    customer_id = await ready_customer(seeded_api)
    script([{"tool": "customer.show", "args": {"customer_id": customer_id}}, {"say": "Active."}])
    turn = json.loads((await bss("ask", f"how is {customer_id}?", "--json")).output)
    session_id, trace_id = turn["session_id"], turn["trace_id"]
    assert trace_id
    # The test session runs with the span store off; store this turn's spans as the exporter would.
    ours = [s for s in spans.get_finished_spans() if format(s.context.trace_id, "032x") == trace_id]
    columns = ("trace_id", "span_id", "parent_span_id", "name", "service", "kind", "start_time", "end_time",
               "duration_us", "status_code", "status_message", "attributes")
    await insert_spans(seeded_db, [dict(zip(columns, span_row(s))) for s in ours])

    result = await bss("trace", "for-ask", session_id, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    (listed,) = data["traces"]
    assert listed["traceId"] == trace_id and listed["events"] == ["customer.show"] and listed["spanCount"] == len(ours)
    (doc,) = data["rendered"]
    # The agent's call reached the API inside the turn's trace: the request and the SQL it ran.
    assert doc["spans"][0]["name"] == "GET /crm-api/v1/customer/{customer_id}/summary" and doc["spanCount"] > 1
    swimlane = await bss("trace", "for-ask", session_id)
    assert f"traces of agent session {session_id}" in swimlane.output and f"trace {trace_id}" in swimlane.output
    missing = await bss("trace", "for-ask", "SES-999999999", "--json")
    assert missing.exit_code == 2


async def test_an_escalation_is_shown_with_the_case_it_opened(bss, seeded_api, script):
    customer_id = await ready_customer(seeded_api)
    script([{"say": "never asked: a person takes this"}])
    result = await bss("ask", "I think my SIM was hacked, this is fraud", "--customer", customer_id)
    assert result.exit_code == 0, result.output
    case_id = next(word for word in result.output.split() if word.startswith("CASE-"))
    assert "⚑ handed to a human: fraud → " + case_id in result.output
    assert "never asked" not in result.output
    case = (await seeded_api.get(f"/crm-api/v1/case/{case_id}")).json()
    assert case["customerId"] == customer_id
