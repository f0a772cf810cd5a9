"""The event plane's pure part: audit events as TMF resource events, hub query filters, signatures, tables.

An audit row (`audit.domain_event`) maps to at most one TMF event: the API it belongs to, the TMF
event type and the resource it names (TMF630 part 2 notification shape). Rows with no TMF meaning
(portal logins, pings, clock moves) map to None and are never sent to a hub.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

# Hubs are configuration, not operational data: their own MetaData keeps them out of the domain
# schema that `bss db reset --operational` truncates (activities/reset.py), like the audit log whose
# position they hold. Created by migration 0027; the xid8 cursor column is read with raw SQL.
event_metadata = MetaData()

subscription = Table(
    "subscription", event_metadata,
    Column("id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("api", Text, nullable=False),
    Column("callback", Text),
    Column("query", Text),
    Column("secret", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("cursor_id", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
    schema="event",
)

delivery = Table(
    "delivery", event_metadata,
    Column("subscription_id", Text, primary_key=True),
    Column("domain_event_id", BigInteger, primary_key=True),
    Column("delivery_id", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("body", JSONB, nullable=False),
    Column("last_attempt_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    schema="event",
)

HUB = "hub"
NOTIFIER = "notifier"
NOTIFIER_ID = "notifier"  # the one built-in subscription (inserted by migration 0027)
ACTIVE, DELETED = "active", "deleted"
DELIVERED, RETRYING, FAILED = "delivered", "retrying", "failed"
CHANNEL = "domain_event"  # the NOTIFY channel of audit.domain_event inserts

ORDERING = "/tmf-api/productOrderingManagement/v4"
CUSTOMER = "/tmf-api/customerManagement/v4"
PARTY = "/tmf-api/party/v4"
PRODUCT = "/tmf-api/productInventory/v4"
TICKET = "/tmf-api/troubleTicket/v4"
PAYMENT = "/tmf-api/paymentManagement/v4"
PAYMENT_METHOD = "/tmf-api/paymentMethod/v4"
INTERACTION = "/tmf-api/partyInteraction/v4"
USAGE = "/tmf-api/usageManagement/v4"
SERVICE = "/tmf-api/serviceInventory/v4"
SERVICE_ORDER = "/tmf-api/serviceOrdering/v4"
CATALOG = "/tmf-api/productCatalogManagement/v4"
RESOURCE = "/tmf-api/resourceInventoryManagement/v4"
BILL = "/tmf-api/customerBillManagement/v4"
BALANCE = "/tmf-api/prepayBalanceManagement/v4"
ACTIVATION = "/tmf-api/ServiceActivationAndConfiguration/v4"

# Every TMF API base the API serves; each gets POST /hub and DELETE /hub/{id} (apis/tmf_hub.py).
# (TMF676's spec says /payment/v4; we serve it under paymentManagement, as its router does.)
API_BASES = (CATALOG, TICKET, ORDERING, CUSTOMER, PARTY, USAGE, PRODUCT, SERVICE, RESOURCE, ACTIVATION,
             SERVICE_ORDER, BALANCE, PAYMENT_METHOD, PAYMENT, BILL, INTERACTION)

# The spec file of each base, for the hub's EventSubscription schema (tests/support/tmf_schema.py).
SPEC_FILES = {
    CATALOG: "TMF620-ProductCatalog-v4.0.0.swagger.json", TICKET: "TMF621-TroubleTicket-v4.0.0.swagger.json",
    ORDERING: "TMF622-ProductOrdering-v4.0.0.swagger.json", CUSTOMER: "TMF629-Customer-v4.0.0.swagger.json",
    PARTY: "TMF632-Party-v4.0.0.swagger.json", USAGE: "TMF635-UsageManagement-v4.0.0.swagger.json",
    PRODUCT: "TMF637-ProductInventory-v4.0.0.swagger.json", SERVICE: "TMF638-ServiceInventory-v4.0.0.swagger.json",
    RESOURCE: "TMF639-ResourceInventory-v4.0.0.swagger.json",
    ACTIVATION: "TMF640-ServiceActivation-v4.0.0.swagger.json",
    SERVICE_ORDER: "TMF641-ServiceOrdering-v4.0.0.swagger.json", BALANCE: "TMF654-PrepayBalance-v4.0.0.swagger.json",
    PAYMENT_METHOD: "TMF670-PaymentMethod-v4.0.0.swagger.json", PAYMENT: "TMF676-Payment-v4.0.0.swagger.json",
    BILL: "TMF678-CustomerBill-v4.0.0.swagger.json", INTERACTION: "TMF683-PartyInteraction-v4.0.0.swagger.json",
}


@dataclass(frozen=True)
class Kind:
    """What one audit event type is in TMF terms."""

    api: str
    resource: str       # the attribute name under `event` and the collection segment, e.g. productOrder
    change: str         # Create | StateChange | StatusChange | AttributeValueChange | Delete
    state: str | None = None  # the state/status value the event announces (None: from the payload)
    collection: str | None = None  # when the collection segment differs from the resource name

    @property
    def tmf_type(self) -> str:
        """The resource's @type, e.g. ProductOrder."""
        return self.resource[0].upper() + self.resource[1:]

    @property
    def event_type(self) -> str:
        """The TMF event type, e.g. ProductOrderStateChangeEvent."""
        return f"{self.tmf_type}{self.change}Event"


def _k(api: str, resource: str, change: str, state: str | None = None, collection: str | None = None) -> Kind:
    return Kind(api, resource, change, state, collection)


# audit event_type -> TMF event. Exact names first; the prefixes below catch the f-string families.
EXACT: dict[str, Kind] = {
    "order.acknowledged": _k(ORDERING, "productOrder", "Create", "acknowledged"),
    # The first milestone moves an acknowledged order to inProgress (activities/ordering.py apply_steps).
    "order.step.reserved": _k(ORDERING, "productOrder", "StateChange", "inProgress"),
    # A modify or delete order's first step (activities/ordering_changes.py) is its move to inProgress.
    "order.step.changing_plan": _k(ORDERING, "productOrder", "StateChange", "inProgress"),
    "order.step.terminating": _k(ORDERING, "productOrder", "StateChange", "inProgress"),
    "order.completed": _k(ORDERING, "productOrder", "StateChange", "completed"),
    "order.failed": _k(ORDERING, "productOrder", "StateChange", "failed"),
    "order.cancelled": _k(ORDERING, "productOrder", "StateChange", "cancelled"),
    "customer.created": _k(CUSTOMER, "customer", "Create"),
    "customer.updated": _k(CUSTOMER, "customer", "AttributeValueChange"),
    "customer.kyc_verified": _k(CUSTOMER, "customer", "AttributeValueChange"),
    "individual.created": _k(PARTY, "individual", "Create"),
    "individual.updated": _k(PARTY, "individual", "AttributeValueChange"),
    "organization.created": _k(PARTY, "organization", "Create"),
    "organization.updated": _k(PARTY, "organization", "AttributeValueChange"),
    "subscription.activated": _k(PRODUCT, "product", "StateChange", "active"),
    "subscription.blocked": _k(PRODUCT, "product", "StateChange", "suspended"),
    "subscription.unblocked": _k(PRODUCT, "product", "StateChange", "active"),
    "subscription.terminated": _k(PRODUCT, "product", "StateChange", "terminated"),
    "subscription.renewed": _k(PRODUCT, "product", "AttributeValueChange"),
    "subscription.price_migrated": _k(PRODUCT, "product", "AttributeValueChange"),
    "subscription.plan_change.applied": _k(PRODUCT, "product", "AttributeValueChange"),
    "subscription.vas.granted": _k(PRODUCT, "product", "AttributeValueChange"),
    "ticket.opened": _k(TICKET, "troubleTicket", "Create"),
    "ticket.status_changed": _k(TICKET, "troubleTicket", "StatusChange"),
    "ticket.updated": _k(TICKET, "troubleTicket", "AttributeValueChange"),
    "ticket.assigned": _k(TICKET, "troubleTicket", "AttributeValueChange"),
    "ticket.note_added": _k(TICKET, "troubleTicket", "AttributeValueChange"),
    "ticket.deleted": _k(TICKET, "troubleTicket", "Delete"),
    "payment_method.added": _k(PAYMENT_METHOD, "paymentMethod", "Create"),
    "payment_method.updated": _k(PAYMENT_METHOD, "paymentMethod", "AttributeValueChange"),
    "payment_method.default_changed": _k(PAYMENT_METHOD, "paymentMethod", "AttributeValueChange"),
    "payment_method.removed": _k(PAYMENT_METHOD, "paymentMethod", "Delete"),
    "party_interaction.created": _k(INTERACTION, "partyInteraction", "Create"),
    "usage.rated": _k(USAGE, "usage", "Create", "rated"),
    "usage.rejected": _k(USAGE, "usage", "Create", "rejected"),
    "service_order.created": _k(SERVICE_ORDER, "serviceOrder", "Create", "acknowledged"),
    "catalog.offering.created": _k(CATALOG, "productOffering", "Create"),
    "catalog.price.created": _k(CATALOG, "productOfferingPrice", "Create"),
    "catalog.price.updated": _k(CATALOG, "productOfferingPrice", "AttributeValueChange"),
    "bill.issued": _k(BILL, "customerBill", "Create", "new"),
    # TMF620 v4 defines only Create and Delete events for a specification.
    "catalog.specification.created": _k(CATALOG, "productSpecification", "Create"),
    "usage_specification.created": _k(USAGE, "usageSpecification", "Create"),
    "subscription.plan_change.scheduled": _k(PRODUCT, "product", "AttributeValueChange"),
    "subscription.vas.expired": _k(PRODUCT, "product", "AttributeValueChange"),
    "subscription.block_reason_changed": _k(PRODUCT, "product", "AttributeValueChange"),
    "subscription.balance.adjusted": _k(PRODUCT, "product", "AttributeValueChange"),
    "ticket.sla_breached": _k(TICKET, "troubleTicket", "AttributeValueChange"),
    **{f"inventory.{pool}.added": _k(RESOURCE, "resource", "Create") for pool in ("msisdn", "esim")},
    # A unit's moves (activities/inventory_pool.py PAST); the pool-wide watermark and batch events are not resources.
    **{f"inventory.{pool}.{moved}": _k(RESOURCE, "resource", "StateChange")
       for pool in ("msisdn", "esim")
       for moved in ("reserved", "released", "assigned", "quarantined", "recycled", "ported_out", "downloaded",
                     "activated", "suspended", "resumed")},
}
# f-string families: prefix -> kind whose state is the last segment of the event type.
PREFIXES: tuple[tuple[str, Kind], ...] = (
    ("payment.charge_intent.", Kind("", "", "")),  # internal bookkeeping of a charge: no TMF event
    ("payment.", _k(PAYMENT, "payment", "Create")),
    ("refund.", _k(PAYMENT, "refund", "Create")),
    ("service_order.", _k(SERVICE_ORDER, "serviceOrder", "StateChange")),
    ("service.", _k(SERVICE, "service", "StateChange")),
    ("customer.", _k(CUSTOMER, "customer", "StateChange")),
    ("catalog.offering.", _k(CATALOG, "productOffering", "StateChange")),
)
# Which attribute carries the state in each resource (TMF uses both words).
STATUS_ATTRIBUTE = {"troubleTicket": "status", "customer": "status", "paymentMethod": "status", "payment": "status",
                    "refund": "status", "partyInteraction": "status", "usage": "status", "product": "status",
                    "individual": "status", "organization": "status", "productOffering": "lifecycleStatus"}


def kind_of(event_type: str) -> Kind | None:
    """The TMF event an audit event type is, or None when it has none."""
    if event_type in EXACT:
        return EXACT[event_type]
    for prefix, kind in PREFIXES:
        if event_type.startswith(prefix):
            if not kind.api:
                return None
            state = event_type[len(prefix):]
            return None if "." in state else Kind(kind.api, kind.resource, kind.change, camel(state))
    return None


def camel(word: str) -> str:
    """snake_case → camelCase (a TMF state, an ops API key)."""
    head, *rest = word.split("_")
    return head + "".join(part.title() for part in rest)


def tmf_event(row: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(api base, TMF notification body) of an audit row, or None when it is not a TMF resource event.

    `row` has id, occurred_at, event_type, aggregate_id, payload and trace_id, as read from the log.
    """
    kind = kind_of(row["event_type"])
    if kind is None:
        return None
    ident = row["aggregate_id"]
    resource: dict[str, Any] = {"id": ident, "href": f"{kind.api}/{kind.collection or kind.resource}/{ident}",
                                "@type": kind.tmf_type}
    payload = row.get("payload") or {}
    state = kind.state or payload.get("status") or payload.get("state")
    if state is not None:
        resource[STATUS_ATTRIBUTE.get(kind.resource, "state")] = state
    occurred = row["occurred_at"]
    body: dict[str, Any] = {
        "eventId": str(row["id"]),
        "eventTime": occurred.isoformat() if isinstance(occurred, datetime) else str(occurred),
        "eventType": kind.event_type,
        "domain": kind.api.split("/")[2],
        "event": {kind.resource: resource},
    }
    if row.get("trace_id"):
        body["correlationId"] = row["trace_id"]
    return kind.api, body


class QueryInvalid(ValueError):
    """A hub query that is not `name=value[,value…]` terms joined by `&`."""


def parse_query(query: str | None) -> list[tuple[str, frozenset[str]]]:
    """The terms of a hub query (TMF630 style `eventType=A,B&event.productOrder.state=completed`)."""
    if not query or not query.strip():
        return []
    terms = []
    for part in query.split("&"):
        name, sep, values = part.partition("=")
        name = name.strip()
        wanted = frozenset(v.strip() for v in values.split(",") if v.strip())
        if not sep or not name or not wanted:
            raise QueryInvalid(f"'{part}' is not name=value")
        terms.append((name, wanted))
    return terms


def matches(terms: list[tuple[str, frozenset[str]]], body: dict[str, Any]) -> bool:
    """True when every term holds for the notification body (a comma within a term is OR)."""
    for name, wanted in terms:
        value: Any = body
        for key in name.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if value is None or str(value) not in wanted:
            return False
    return True


def callback_valid(callback: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(callback)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def delivery_id(subscription_id: str, domain_event_id: int) -> str:
    """The id every (re)delivery of one event to one hub carries, so a receiver can drop duplicates."""
    return f"{subscription_id}.{domain_event_id}"


def signature(secret: str, body: bytes) -> str:
    """`X-Event-Signature` value: sha256=<hex HMAC-SHA256 of the exact body bytes with the hub's secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
