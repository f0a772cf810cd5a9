"""`bss case …` and `bss ticket …` through the real API, and the case card snapshot."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import text

from activities.ticket import escalate_breached_tickets
from cli.render.care import case_card, ticket_card
from core import clock
from tests.support.snapshots import assert_snapshot

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


async def add_customer(db, customer_id: str = "CUST-900001", status: str = "active") -> str:
    """Insert a customer row directly (care only reads `crm.customer.status`)."""
    async with db.begin() as conn:
        # Without the customer module's migration, a minimal table stands in (care needs id and status only).
        await conn.execute(text("CREATE TABLE IF NOT EXISTS crm.customer (id text PRIMARY KEY, status text NOT NULL)"))
        required = (await conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'crm'"
            " AND table_name = 'customer' AND is_nullable = 'NO' AND column_default IS NULL"))).scalars().all()
        values = {c: f"test-{c}" for c in required} | {"id": customer_id, "status": status}
        await conn.execute(text(f"INSERT INTO crm.customer ({', '.join(values)}) VALUES"
                                f" ({', '.join(':' + c for c in values)})"), values)
    return customer_id


async def run_json(bss, *args: str):
    result = await bss(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_case_commands_from_open_to_close(seeded_api, seeded_db, bss):
    await add_customer(seeded_db)
    case = await run_json(bss, "case", "open", "CUST-900001", "--title", "No data", "--priority", "high")
    case_id = case["id"]
    assert case["state"] == "open" and case["priority"] == "high"
    shown = await bss("case", "show", case_id)
    assert shown.exit_code == 0 and case_id in shown.stdout and "No data" in shown.stdout
    listed = await run_json(bss, "case", "list", "--customer", "CUST-900001")
    assert [c["id"] for c in listed] == [case_id]
    table = await bss("case", "list", "--state", "open")
    assert table.exit_code == 0 and case_id in table.stdout
    noted = await bss("case", "note", case_id, "Customer called back")
    assert noted.exit_code == 0 and "added" in noted.stdout
    assert (await run_json(bss, "case", "note", case_id, "second"))["text"] == "second"
    assert (await run_json(bss, "case", "transition", case_id, "in_progress"))["state"] == "in_progress"
    assigned = await run_json(bss, "case", "assign", case_id, "AG-CSR-01")
    assert assigned["assignedAgent"]["id"] == "AG-CSR-01"
    declined = await bss("case", "close", case_id, "--resolution", "FIXED", input="n\n")
    assert declined.exit_code == 1
    closed = await bss("case", "close", case_id, "--resolution", "FIXED", "--notes", "done", "--yes")
    assert closed.exit_code == 0, closed.output
    assert "closed" in closed.stdout and "FIXED" in closed.stdout
    refused = await bss("case", "note", case_id, "too late")
    assert refused.exit_code == 2 and "case.update.closed_is_immutable" in refused.output


async def test_case_cancel_and_refusals(seeded_api, seeded_db, bss):
    await add_customer(seeded_db)
    case = await run_json(bss, "case", "open", "CUST-900001", "--title", "Duplicate")
    bad = await bss("case", "transition", case["id"], "resolved", "--json")
    assert bad.exit_code == 2 and json.loads(bad.stdout)["code"] == "case.transition.invalid"
    cancelled = await run_json(bss, "case", "cancel", case["id"], "--reason", "raised twice", "--yes")
    assert cancelled["state"] == "closed" and cancelled["cancelled"] is True
    unknown = await bss("case", "open", "CUST-404404", "--title", "x")
    assert unknown.exit_code == 2 and "case.open.customer_exists" in unknown.output


async def test_ticket_commands_through_their_lifecycle(seeded_api, seeded_db, bss):
    await add_customer(seeded_db)
    case = await run_json(bss, "case", "open", "CUST-900001", "--title", "No data")
    ticket = await run_json(bss, "ticket", "open", "--customer", "CUST-900001", "--case", case["id"],
                            "--type", "network", "--severity", "major", "--priority", "high",
                            "--description", "No data since 9am")
    ticket_id = ticket["id"]
    assert ticket["status"] == "held" and ticket["relatedEntity"][0]["id"] == case["id"]
    card = await bss("ticket", "show", ticket_id)
    assert card.exit_code == 0 and "response due" in card.stdout and "AG-ENG-01" in card.stdout
    assert "open" in card.stdout  # the card speaks SPEC names, not TMF's `held`
    listed = await run_json(bss, "ticket", "list", "--status", "open")
    assert [t["id"] for t in listed] == [ticket_id]
    assert ticket_id in (await bss("ticket", "list", "--customer", "CUST-900001")).stdout
    assigned = await run_json(bss, "ticket", "assign", ticket_id, "AG-ENG-02")
    assert [p["id"] for p in assigned["relatedParty"]] == ["CUST-900001", "AG-ENG-02"]
    for status in ("acknowledged", "in_progress", "pending", "in_progress"):
        moved = await bss("ticket", "transition", ticket_id, status)
        assert moved.exit_code == 0, moved.output
    refused = await bss("ticket", "transition", ticket_id, "resolved")
    assert refused.exit_code == 2 and "ticket.resolve.requires_notes" in refused.output
    resolved = await run_json(bss, "ticket", "transition", ticket_id, "resolved", "--notes", "Cell reset")
    assert resolved["status"] == "resolved" and resolved["resolutionNotes"] == "Cell reset"
    case_card_text = await bss("case", "show", case["id"])
    assert ticket_id in case_card_text.stdout and "resolved" in case_card_text.stdout


async def test_ticket_delete_asks_first(seeded_api, seeded_db, bss):
    await add_customer(seeded_db)
    ticket = await run_json(bss, "ticket", "open", "--customer", "CUST-900001", "--type", "billing",
                            "--severity", "minor", "--description", "Charged twice")
    assert ticket["priority"] == "medium" and ticket["relatedParty"][1]["id"] == "AG-CSR-01"
    kept = await bss("ticket", "delete", ticket["id"], input="n\n")
    assert kept.exit_code == 1
    deleted = await bss("ticket", "delete", ticket["id"], "--yes")
    assert deleted.exit_code == 0 and "deleted" in deleted.stdout
    gone = await bss("ticket", "show", ticket["id"])
    assert gone.exit_code == 2 and "ticket.not_found" in gone.output


async def test_breached_ticket_shows_a_warning(seeded_api, seeded_db, bss):
    await add_customer(seeded_db)
    with clock.frozen(T0):
        ticket = await run_json(bss, "ticket", "open", "--customer", "CUST-900001", "--type", "network",
                                "--severity", "critical", "--description", "Site down")
    await escalate_breached_tickets(T0 + dt.timedelta(days=1))
    card = await bss("ticket", "show", ticket["id"])
    assert "⚠ breached" in card.stdout
    assert "⚠ 03-02" in (await bss("ticket", "list")).stdout


CASE_PAYLOAD = {
    "id": "CASE-000042", "@type": "Case", "customerId": "CUST-000007", "title": "No data after top-up",
    "description": "Topped up 5GB at 08:10, line still blocked", "state": "in_progress", "priority": "high",
    "category": "data", "cancelled": False, "openedBy": "AG-CSR-01",
    "assignedAgent": {"id": "AG-CSR-02", "name": "Daniel Tan", "@referredType": "Agent"},
    "openedAt": "2026-03-02T09:00:00Z", "updatedAt": "2026-03-02T11:30:00Z",
    "note": [{"id": "1", "author": "AG-CSR-02", "date": "2026-03-02T09:20:00Z", "text": "Asked customer to restart"},
             {"id": "2", "author": "AG-ENG-01", "date": "2026-03-02T10:05:00Z", "text": "PCRF policy missing"}],
    "troubleTicket": [
        {"id": "TT-000101", "ticketType": "network", "severity": "critical", "priority": "critical",
         "status": "in_progress", "assignedAgentId": "AG-ENG-01", "expectedResolutionDate": "2026-03-02T13:00:00Z",
         "slaBreached": True},
        {"id": "TT-000102", "ticketType": "billing", "severity": "minor", "priority": "medium",
         "status": "open", "assignedAgentId": "AG-CSR-01", "expectedResolutionDate": "2026-03-04T09:00:00Z",
         "slaBreached": False},
    ],
}


def test_case_card_snapshot():
    assert_snapshot("care_case_card", case_card(CASE_PAYLOAD))


def test_ticket_card_snapshot():
    ticket = {
        "id": "TT-000101", "name": "Site down", "description": "No data in Tampines", "severity": "critical",
        "priority": "critical", "ticketType": "network", "status": "inProgress",
        "creationDate": "2026-03-02T09:00:00Z", "slaResponseDue": "2026-03-02T09:15:00Z",
        "expectedResolutionDate": "2026-03-02T13:00:00Z", "slaBreached": True,
        "relatedParty": [{"id": "CUST-000007", "role": "customer", "@referredType": "Customer"},
                         {"id": "AG-ENG-01", "name": "Ravi Kumar", "role": "assignee", "@referredType": "Agent"}],
        "relatedEntity": [{"id": "CASE-000042", "role": "case", "@referredType": "Case"}],
        "note": [{"id": "1", "author": "AG-ENG-01", "date": "2026-03-02T09:30:00Z", "text": "Checking the site"}],
        "statusChange": [{"changeDate": "2026-03-02T09:00:00Z", "status": "held"},
                         {"changeDate": "2026-03-02T09:25:00Z", "status": "acknowledged"},
                         {"changeDate": "2026-03-02T09:30:00Z", "status": "inProgress", "changeReason": "on it"}],
    }
    assert_snapshot("care_ticket_card", ticket_card(ticket))
