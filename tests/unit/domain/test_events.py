"""The event plane's pure part: audit event types as TMF events, hub query filters, signatures."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from domain import events as ev


@pytest.mark.parametrize(("audit", "tmf", "state"), [
    ("order.acknowledged", "ProductOrderCreateEvent", "acknowledged"),
    ("order.step.reserved", "ProductOrderStateChangeEvent", "inProgress"),
    ("order.completed", "ProductOrderStateChangeEvent", "completed"),
    ("subscription.blocked", "ProductStateChangeEvent", "suspended"),
    ("service_order.in_progress", "ServiceOrderStateChangeEvent", "inProgress"),
    ("payment.succeeded", "PaymentCreateEvent", "succeeded"),
    ("ticket.status_changed", "TroubleTicketStatusChangeEvent", None),
    ("order.step.changing_plan", "ProductOrderStateChangeEvent", "inProgress"),
    ("order.step.terminating", "ProductOrderStateChangeEvent", "inProgress"),
    ("catalog.specification.created", "ProductSpecificationCreateEvent", None),
    ("usage_specification.created", "UsageSpecificationCreateEvent", None),
    ("inventory.esim.added", "ResourceCreateEvent", None),
    ("inventory.msisdn.quarantined", "ResourceStateChangeEvent", None),
])
def test_audit_types_map_to_the_spec_event_names(audit, tmf, state):
    kind = ev.kind_of(audit)
    assert kind is not None and (kind.event_type, kind.state) == (tmf, state)


@pytest.mark.parametrize("audit", ["portal.login.succeeded", "payment.charge_intent.opened", "order.step.paid",
                                   "service_order.x.y", "clock.advanced", "inventory.esim.low_watermark",
                                   "inventory.esim.batch_added", "case.opened"])
def test_internal_events_are_not_tmf_events(audit):
    assert ev.kind_of(audit) is None


def test_body_and_filter():
    row = {"id": 42, "occurred_at": datetime(2026, 12, 8, tzinfo=UTC), "event_type": "ticket.status_changed",
           "aggregate_id": "TT-000001", "payload": {"status": "resolved"}, "trace_id": "abc"}
    api, body = ev.tmf_event(row)
    assert api == ev.TICKET and body["eventType"] == "TroubleTicketStatusChangeEvent"
    assert body["event"]["troubleTicket"] == {"id": "TT-000001", "href": f"{ev.TICKET}/troubleTicket/TT-000001",
                                              "@type": "TroubleTicket", "status": "resolved"}
    assert body["eventId"] == "42" and body["correlationId"] == "abc"
    assert ev.matches(ev.parse_query("eventType=A,TroubleTicketStatusChangeEvent&event.troubleTicket.status=resolved"),
                      body)
    assert not ev.matches(ev.parse_query("event.troubleTicket.status=closed"), body)
    assert not ev.matches(ev.parse_query("event.productOrder.state=resolved"), body)  # a path it does not have
    assert ev.matches(ev.parse_query(None), body) and ev.matches(ev.parse_query(" "), body)


@pytest.mark.parametrize("query", ["eventType", "=x", "eventType=", "a=b&c"])
def test_malformed_queries(query):
    with pytest.raises(ev.QueryInvalid):
        ev.parse_query(query)


def test_callbacks_and_signature():
    assert ev.callback_valid("https://example.com/hook") and ev.callback_valid("http://127.0.0.1:8080/x")
    assert not any(map(ev.callback_valid, ["/events", "ftp://h/x", "http://", "x", "http:///path"]))
    expected = hmac.new(b"k", b'{"a":1}', hashlib.sha256).hexdigest()
    assert ev.signature("k", b'{"a":1}') == f"sha256={expected}"
    assert ev.delivery_id("hub-1", 7) == ev.delivery_id("hub-1", 7) != ev.delivery_id("hub-2", 7)


def test_every_mapped_event_is_defined_by_its_api_spec():
    """An event name a hub receives is one its API's official spec defines (no invented names)."""
    import json

    from core.settings import get_settings

    kinds = [*ev.EXACT.values(), *(kind for _, kind in ev.PREFIXES if kind.api)]
    missing = set()
    for kind in kinds:
        spec = json.loads((get_settings().tmf_specs_dir / ev.SPEC_FILES[kind.api]).read_text())
        if not any(name.endswith("Event") for name in spec["definitions"]):
            continue  # TMF678's v4 Swagger defines no events; its user guide names CustomerBillCreateEvent
        if kind.event_type not in spec["definitions"]:
            missing.add(f"{kind.event_type} ({ev.SPEC_FILES[kind.api]})")
    assert not missing, sorted(missing)
