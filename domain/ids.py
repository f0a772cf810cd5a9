"""Business identifiers: a prefix plus a number from a per-kind database sequence."""

from __future__ import annotations

from enum import StrEnum


class IdKind(StrEnum):
    """Every kind of business id and its prefix."""

    CUSTOMER = "CUST"
    INDIVIDUAL = "IND"
    ORGANIZATION = "ORG"
    INTERACTION = "INT"
    CASE = "CASE"
    TICKET = "TT"
    PAYMENT_METHOD = "PM"
    PAYMENT = "PAY"
    REFUND = "REF"
    ORDER = "ORD"
    SERVICE_ORDER = "SO"
    SERVICE = "SVC"
    PROVISIONING_TASK = "PT"
    SUBSCRIPTION = "SUB"
    USAGE = "USG"
    BILL = "BILL"
    PING = "PING"


# kind -> (schema, sequence) that numbers it
ID_SEQUENCES: dict[IdKind, tuple[str, str]] = {
    IdKind.CUSTOMER: ("crm", "customer_seq"),
    IdKind.INDIVIDUAL: ("crm", "individual_seq"),
    IdKind.ORGANIZATION: ("crm", "organization_seq"),
    IdKind.INTERACTION: ("crm", "interaction_seq"),
    IdKind.CASE: ("crm", "case_seq"),
    IdKind.TICKET: ("crm", "ticket_seq"),
    IdKind.PAYMENT_METHOD: ("payment", "payment_method_seq"),
    IdKind.PAYMENT: ("payment", "payment_seq"),
    IdKind.REFUND: ("payment", "refund_seq"),
    IdKind.ORDER: ("ordering", "order_seq"),
    IdKind.SERVICE_ORDER: ("service_inventory", "service_order_seq"),
    IdKind.SERVICE: ("service_inventory", "service_seq"),
    IdKind.PROVISIONING_TASK: ("provisioning", "task_seq"),
    IdKind.SUBSCRIPTION: ("subscription", "subscription_seq"),
    IdKind.USAGE: ("mediation", "usage_seq"),
    IdKind.BILL: ("billing", "bill_seq"),
    IdKind.PING: ("audit", "ping_seq"),
}


def format_id(kind: IdKind, number: int) -> str:
    """Render a business id, e.g. `CUST-000042`."""
    return f"{kind.value}-{number:06d}"


def parse_id(kind: IdKind, value: str) -> int:
    """Return the number inside a business id of `kind`, or raise ValueError."""
    prefix = f"{kind.value}-"
    if not value.startswith(prefix) or not value[len(prefix):].isdigit():
        raise ValueError(f"not a {kind.name.lower()} id: {value!r}")
    return int(value[len(prefix):])
