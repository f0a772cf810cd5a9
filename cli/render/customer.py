"""Customer cards: the 360 view (status, KYC, contacts, lines with bundle bars, cases, cards,
interactions), the created-customer card, the KYC result and the list table.

Personal data is masked on screen (phone numbers, MSISDNs, email local parts, documents): the
card is shown on shared screens and in screenshots; `--json` gives the full API answer.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table

from cli.render.style import card, card_label, fields, mask, money, state, table
from cli.render.subscription import allowance_row, bars

MEDIUM_LABELS = {"email": "email", "mobile": "mobile", "postalAddress": "address"}
ALLOWANCE_LABELS = {"data": "data", "voice": "voice", "sms": "sms", "data_roaming": "roaming"}


def when(value: str | None, with_time: bool = True) -> str:
    """Show an ISO timestamp as `2026-03-02 09:00` (or just the date)."""
    if not value:
        return "—"
    return value.replace("T", " ")[:16 if with_time else 10]


def mask_email(address: str | None) -> str:
    """Keep the first character of the local part and the domain: `a•••@example.com`."""
    if not address or "@" not in address:
        return mask(address)
    local, domain = address.split("@", 1)
    return f"{local[:1]}{'•' * max(len(local) - 1, 3)}@{domain}"


def masked_document(last4: str | None) -> str:
    """A document or card shown by its last four characters only: `••••567A`."""
    return f"••••{last4}" if last4 else "—"


def contact(medium_type: str, value: str) -> str:
    """A contact value, masked for its kind (postal addresses show their city part only)."""
    if medium_type == "email":
        return mask_email(value)
    if medium_type == "mobile":
        return mask(value)
    return value.rsplit(",", 1)[-1].strip() if value else "—"


def _kyc(kyc: dict[str, Any]) -> str:
    if kyc.get("status") != "verified":
        return state(kyc.get("status", "not_verified"))
    document = f"{kyc.get('documentType', '?')} {masked_document(kyc.get('documentLast4'))}"
    verified_on = when(kyc.get("verifiedAt"), False)
    return f"{state('verified')} {document} via {kyc.get('provider', '?')}, {verified_on}"


def _keep_whole(rows: Table, *columns: int) -> None:
    """Never wrap or elide these columns (ids, states): narrow terminals squeeze the free text instead."""
    for index in columns:
        rows.columns[index].no_wrap = True
        rows.columns[index].overflow = "fold"


def _section(title: str) -> str:
    return f"\n[bold]{title}[/]"


def _line_header(line: dict[str, Any]) -> str:
    parts = [f"  [bold]{line['id']}[/]", mask(line.get("msisdn")), line.get("offeringId", ""),
             money(line.get("priceMinor"), line.get("currency", "SGD")), state(line["state"])]
    if line.get("periodEnd") and line["state"] != "terminated":
        parts.append(f"[dim]renews {when(line['periodEnd'], False)}[/]")
    if line.get("blockedReason"):
        parts.append(f"[red]⚠ {escape(line['blockedReason'])}[/]")
    return "  ".join(parts)


def _balances(balances: list[dict[str, Any]]) -> Table:
    return bars([allowance_row(f"    {ALLOWANCE_LABELS.get(b['allowanceType'], b['allowanceType'])}", b["consumed"],
                               b["total"], b["remaining"], b["unit"]) for b in balances])


def _lines(lines: list[dict[str, Any]]) -> RenderableType:
    if not lines:
        return "[dim]  no lines[/]"
    parts: list[RenderableType] = []
    for line in lines:
        parts.append(_line_header(line))
        if line.get("balances"):
            parts.append(_balances(line["balances"]))
    return Group(*parts)


def _cases(cases: list[dict[str, Any]], available: bool) -> RenderableType:
    if not available:
        return "[dim]  cases not available yet[/]"
    if not cases:
        return "[dim]  no open cases[/]"
    grid = Table.grid(padding=(0, 2))
    for _ in range(4):
        grid.add_column(no_wrap=True)
    for case in cases:
        grid.add_row(f"  {case['id']}", case.get("priority", ""), escape(case.get("title", "")),
                     state(case["state"]))
        for ticket in case.get("tickets", []):
            grid.add_row(f"    {ticket['id']}", ticket.get("severity", ""), ticket.get("ticketType", ""),
                         state(ticket["status"]))
    return grid


def _cards(methods: list[dict[str, Any]], available: bool) -> RenderableType:
    if not available:
        return "[dim]  payment methods not available yet[/]"
    if not methods:
        return "[yellow]  no card on file[/]"
    return Group(*(f"  {m['id']}  {card_label(m.get('brand'), m.get('last4'))}  exp "
                   f"{m.get('expMonth', 0):02d}/{str(m.get('expYear', ''))[-2:]}"
                   f"{'  [green]default[/]' if m.get('isDefault') else ''}" for m in methods))


def _interactions(items: list[dict[str, Any]]) -> RenderableType:
    if not items:
        return "[dim]  none[/]"
    grid = Table.grid(padding=(0, 2))
    for _ in range(3):
        grid.add_column(no_wrap=True)
    for item in items:
        grid.add_row(f"  {when(item.get('date'))}", item.get("channel", ""), escape(item.get("reason", "")))
    return grid


def _contacts(contacts: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(MEDIUM_LABELS.get(m["mediumType"], m["mediumType"]),
             contact(m["mediumType"], m["value"]) + (" ★" if m.get("preferred") else "")) for m in contacts]


def customer_card(summary: dict[str, Any]) -> RenderableType:
    """The customer 360 card, from `GET /crm-api/v1/customer/{id}/summary`."""
    c = summary["customer"]
    sources = summary.get("sources", {})
    status = state(c["status"]) + (f" [dim]({escape(c['statusReason'])})[/]" if c.get("statusReason") else "")
    head = fields(("status", status), ("KYC", _kyc(summary.get("kyc", {}))), ("party", c.get("individualId")),
                 ("since", when(c.get("createdAt"), False)),
                 ("closed", when(c["closedAt"], False) if c.get("closedAt") else None),
                 *_contacts(summary.get("contacts", [])))
    body = Group(head,
                 _section("Lines"), _lines(summary.get("lines", [])),
                 _section("Open cases"), _cases(summary.get("cases", []), sources.get("cases", True)),
                 _section("Payment methods"),
                 _cards(summary.get("paymentMethods", []), sources.get("paymentMethods", True)),
                 _section("Recent interactions"), _interactions(summary.get("interactions", [])))
    return card(f"customer {c['id']} · {c['name']}", body)


def _characteristic(customer: dict[str, Any], name: str) -> Any:
    found = (ch.get("value") for ch in customer.get("characteristic", []) if ch.get("name") == name)
    return next(found, None)


def _contact_value(medium: dict[str, Any]) -> str:
    characteristic = medium.get("characteristic", {})
    value = (characteristic.get("emailAddress") or characteristic.get("phoneNumber")
             or characteristic.get("city", ""))
    return contact(medium.get("mediumType", ""), value)


def created_card(customer: dict[str, Any]) -> RenderableType:
    """A TMF629 customer just created or changed."""
    media = [(MEDIUM_LABELS.get(m.get("mediumType", ""), ""), _contact_value(m))
             for m in customer.get("contactMedium", [])]
    head = fields(("status", state(customer.get("status", "—"))),
                 ("KYC", state(_characteristic(customer, "kycStatus"))),
                 ("party", customer.get("engagedParty", {}).get("id")), *media)
    return card(f"customer {customer['id']} · {customer.get('name', '')}", head)


def kyc_result(result: dict[str, Any]) -> RenderableType:
    """The answer of a KYC attestation."""
    head = fields(("KYC", state(result["kycStatus"])), ("customer", state(result.get("customerStatus", "—"))),
                 ("document", f"{result['documentType']} {masked_document(result['documentLast4'])}"),
                 ("attestation", f"{result['attestationId']} ({result['provider']})"),
                 ("verified", when(result.get("verifiedAt"))))
    return card(f"KYC · {result['customerId']}", head)


def customers_table(customers: list[dict[str, Any]]) -> RenderableType:
    """Customers as a table: id, name, status, KYC, preferred email, since."""
    if not customers:
        return "[dim]no customers[/]"
    rows = table("id", "name", "status", "KYC", "email", "since")
    _keep_whole(rows, 0, 2, 3)
    for c in customers:
        email = next((m for m in c.get("contactMedium", []) if m.get("mediumType") == "email"), None)
        rows.add_row(c["id"], escape(c.get("name", "")), state(c.get("status", "—")),
                     state(_characteristic(c, "kycStatus")), _contact_value(email) if email else "—",
                     when(c.get("validFor", {}).get("startDateTime"), False))
    return rows


def interactions_table(items: list[dict[str, Any]]) -> RenderableType:
    """TMF683 interactions as a table: when, customer, channel, direction, reason."""
    if not items:
        return "[dim]no interactions[/]"
    rows = table("id", "when", "customer", "channel", "direction", "reason")
    _keep_whole(rows, 0, 2)
    for item in items:
        party = next(iter(item.get("relatedParty", [])), {})
        channel = next(iter(item.get("channel", [])), {})
        started = when(item.get("interactionDate", {}).get("startDateTime"))
        rows.add_row(item["id"], started, party.get("id", "—"), channel.get("name") or channel.get("id", "—"),
                     item.get("direction", ""),
                     escape(item.get("reason", "")))
    return rows
