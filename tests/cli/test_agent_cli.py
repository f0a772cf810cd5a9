"""`bss agent …` through the real API: open a session, note it, list sessions, show a transcript card."""

from __future__ import annotations

import json

from tests.api.test_agent_sessions import sha
from tests.support.factories import ready_customer


async def run_json(bss, *args: str):
    result = await bss(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_agent_sessions_from_the_cli(seeded_api, bss):
    customer = await ready_customer(seeded_api)
    opened = await run_json(bss, "agent", "open", "--profile", "customer", "--customer", customer)
    sid = opened["id"]
    assert opened["profile"] == "customer" and opened["customerId"] == customer and opened["transcript"] == []
    # A turn's record, as the agent writes it, then a person's note.
    await seeded_api.post(f"/agent-api/v1/session/{sid}/entries", json={"entries": [
        {"type": "message", "role": "user", "text": "what is my balance?"},
        {"type": "message", "role": "assistant", "text": ""},
        {"type": "toolCall", "operation": "subscription.list", "args": {}, "result": [], "traceId": "f" * 32},
        {"type": "message", "role": "assistant", "text": "You have no lines yet."},
        {"type": "turn", "tokens": 42, "costUsd": 0.0001}]})
    noted = await bss("agent", "note", sid, "customer called back; resolved by phone")
    assert noted.exit_code == 0 and f"note added to {sid} at position 6" in noted.output, noted.output
    listed = await bss("agent", "sessions", "--customer", customer)
    assert listed.exit_code == 0 and sid in listed.output and "customer" in listed.output, listed.output
    shown = await bss("agent", "show", sid)
    assert shown.exit_code == 0, shown.output
    for expected in ("what is my balance?", "subscription.list", "You have no lines yet.", "resolved by phone",
                     "sha-256", "42 tokens"):
        assert expected in shown.output, (expected, shown.output)
    data = await run_json(bss, "agent", "show", sid)
    assert data["transcriptSha256"][:16] in shown.output
    assert data["transcriptSha256"] == sha(data["transcript"]) and data["entries"] == 6
    missing = await bss("agent", "show", "SES-999999")
    assert missing.exit_code != 0 and "agent_session.not_found" in missing.output
    bad = await bss("agent", "open", "--profile", "customer")
    assert bad.exit_code != 0 and "agent.session.customer_required" in bad.output
