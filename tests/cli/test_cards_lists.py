"""Snapshots of the list tables and result cards the per-domain CLI tests do not pin down yet.

Customers, interactions and KYC; cases and tickets; number and eSIM pools (with a low pool);
a stuck task's card and the fault rules; usage events rated, blocking and refused; catalog
admin results. Regenerate with `BSS_UPDATE_SNAPSHOTS=1`.
"""

from __future__ import annotations

from cli.render.care import cases_table, tickets_table
from cli.render.catalog import migration_card, price_card
from cli.render.customer import created_card, customers_table, interactions_table, kyc_result
from cli.render.inventory import esim_table, msisdn_table
from cli.render.provisioning import faults_table, task_card
from cli.render.usage import history_table, usage_card
from tests.cli.test_care_cli import CASE_PAYLOAD
from tests.cli.test_inventory_cli import ESIM, MSISDN
from tests.cli.test_prov_cli import TASKS
from tests.support.snapshots import assert_snapshot, render_text

CUSTOMER = {
    "id": "CUST-000042", "name": "Ada Lovelace", "status": "active",
    "engagedParty": {"id": "IND-000042", "@referredType": "Individual"},
    "validFor": {"startDateTime": "2026-01-05T09:00:00Z"},
    "characteristic": [{"name": "kycStatus", "value": "verified"}],
    "contactMedium": [{"mediumType": "email", "preferred": True, "characteristic": {"emailAddress": "ada@example.com"}},
                      {"mediumType": "mobile", "characteristic": {"phoneNumber": "+6591234567"}}],
}


def test_customers_table_and_created_card_mask_contacts():
    pending = {**CUSTOMER, "id": "CUST-000043", "name": "Grace [Admiral] Hopper", "status": "pending",
               "characteristic": [{"name": "kycStatus", "value": "not_verified"}],
               "contactMedium": [{"mediumType": "email", "characteristic": {"emailAddress": "grace@example.com"}}]}
    text = render_text(customers_table([CUSTOMER, pending]))
    assert "ada@example.com" not in text and "a•••@example.com" in text and "Grace [Admiral] Hopper" in text
    assert_snapshot("customer_list", customers_table([CUSTOMER, pending]))
    created = render_text(created_card(CUSTOMER))
    assert "91234567" not in created and "4567" in created
    assert_snapshot("customer_created", created_card(CUSTOMER))


def test_kyc_result_shows_only_the_document_tail():
    result = {"customerId": "CUST-000042", "kycStatus": "verified", "customerStatus": "active",
              "documentType": "nric", "documentLast4": "567A", "attestationId": "KYC-000009",
              "provider": "prebaked", "verifiedAt": "2026-01-05T09:05:00Z"}
    assert "••••567A" in render_text(kyc_result(result))
    assert_snapshot("customer_kyc_result", kyc_result(result))


def test_interactions_table():
    items = [{"id": "INT-000002", "interactionDate": {"startDateTime": "2026-01-10T08:00:00Z"},
              "relatedParty": [{"id": "CUST-000042"}], "channel": [{"id": "phone", "name": "phone"}],
              "direction": "inbound", "reason": "asked about [roaming] in Japan"},
             {"id": "INT-000001", "interactionDate": {"startDateTime": "2026-01-05T09:05:00Z"},
              "relatedParty": [{"id": "CUST-000042"}], "channel": [{"id": "cli"}], "direction": "outbound",
              "reason": "KYC verified"}]
    assert "[roaming]" in render_text(interactions_table(items))
    assert_snapshot("interaction_list", interactions_table(items))


def test_cases_and_tickets_tables():
    cancelled = {**CASE_PAYLOAD, "id": "CASE-000043", "state": "closed", "cancelled": True, "priority": "low",
                 "title": "Duplicate of [CASE-000042]", "assignedAgent": None, "openedAt": "2026-03-02T09:10:00Z"}
    assert "Duplicate of [CASE-000042]" in render_text(cases_table([CASE_PAYLOAD, cancelled]))
    assert_snapshot("care_case_list", cases_table([CASE_PAYLOAD, cancelled]))
    tickets = [{"id": t["id"], "ticketType": t["ticketType"], "priority": t["priority"],
                "status": {"open": "held", "in_progress": "inProgress"}[t["status"]],
                "expectedResolutionDate": t["expectedResolutionDate"], "slaBreached": t["slaBreached"],
                "relatedParty": [{"id": "CUST-000007", "role": "customer"},
                                 {"id": t["assignedAgentId"], "role": "assignee"}]}
               for t in CASE_PAYLOAD["troubleTicket"]]
    assert "⚠ 03-02 13:00" in render_text(tickets_table(tickets))
    assert_snapshot("care_ticket_list", tickets_table(tickets))


def test_pool_tables_warn_when_a_pool_runs_low():
    summary = {"total": 1000, "byState": {"available": 40, "assigned": 950, "quarantine": 10}, "lowWatermark": 50,
               "low": True}
    assert "⚠ below low watermark" in render_text(msisdn_table([MSISDN], summary))
    assert_snapshot("inventory_msisdn_list_low", msisdn_table([MSISDN], summary))
    esims = {"total": 1000, "byState": {"available": 999, "activated": 1}, "lowWatermark": 50, "low": False}
    assert_snapshot("inventory_esim_list", esim_table([ESIM], esims))


def test_stuck_task_card_says_what_to_do_and_fault_rules_show_which_are_on():
    stuck = {**TASKS[3], "serviceOrderId": "SO-000007", "startedAt": "2026-03-02T09:00:01Z",
             "operatorNote": None}
    text = render_text(task_card(stuck))
    assert "⚠ stuck" in text and "bss prov resolve PT-000004" in text
    assert_snapshot("prov_task_card_stuck", task_card(stuck))
    rules = [{"taskType": "ESIM_PROFILE_PREPARE", "element": "SM-DP+", "mode": "stuck", "enabled": True,
              "probabilityPct": 100},
             {"taskType": "HLR_PROVISION", "element": "HLR", "mode": "slow", "enabled": True, "probabilityPct": 50,
              "slowMs": 800},
             {"taskType": "PCRF_POLICY_PUSH", "element": "PCRF", "mode": "fail_always", "enabled": False,
              "probabilityPct": 100}]
    assert_snapshot("prov_fault_rules", faults_table(rules))


def _usage(n: int, status: str, quantity: int, **rated: object) -> dict:
    chars = [{"name": "msisdn", "value": "90000042"}, {"name": "quantity", "value": quantity},
             {"name": "unit", "value": "MB"}, {"name": "roaming", "value": n == 3},
             {"name": "eventId", "value": f"net-{n}"}]
    body = {"id": f"USG-00000{n}", "usageType": "data", "usageDate": f"2026-03-0{n}T10:15:00Z", "status": status,
            "usageCharacteristic": chars}
    if status == "rejected":
        chars.append({"name": "rejectCode", "value": rated["code"]})
    else:
        body["ratedProductUsage"] = [{"productRef": {"id": "SUB-000009"}, "bucket": rated.get("bucket", "data"),
                                      "chargedQuantity": {"amount": quantity, "units": "MB"},
                                      "balanceAfter": {"amount": rated["left"], "units": "MB"},
                                      "lineBlocked": rated.get("blocked", False)}]
    return body


def test_usage_card_and_history_through_a_block():
    blocking = _usage(2, "rated", 1024, left=0, blocked=True)
    text = render_text(usage_card(blocking))
    assert "⚠ blocked: data exhausted" in text
    assert_snapshot("usage_card_blocking", usage_card(blocking))
    events = [_usage(4, "rejected", 10, code="usage.record.subscription_not_active"),
              _usage(3, "rated", 100, left=400, bucket="data_roaming"), blocking, _usage(1, "rated", 4096, left=1024)]
    history = render_text(history_table(events, "90000042"))
    assert "line not active" in history and "⚠ blocked" in history
    assert_snapshot("usage_history", history_table(events, "90000042"))


def test_catalog_admin_results():
    price = {"id": "POP-000012", "name": "Spring [promo]", "priceType": "recurring",
             "productOffering": {"id": "PLAN_M"}, "price": {"unit": "SGD", "value": 19.9},
             "validFor": {"startDateTime": "2026-04-01T00:00:00Z", "endDateTime": "2026-05-01T00:00:00Z"}}
    assert "Spring [promo]" in render_text(price_card(price))
    assert_snapshot("catalog_price_card", price_card(price))
    migration = {"id": "PMIG-000001", "productOffering": {"id": "PLAN_M"}, "currency": "SGD",
                 "fromPrice": {"id": "POP-000002", "priceMinor": 2500}, "toPrice": {"id": "POP-000013", "priceMinor": 2800},
                 "noticeDays": 30, "effectiveFrom": "2026-04-01T00:00:00Z", "state": "scheduled"}
    assert_snapshot("catalog_price_migration", migration_card(migration))
