"""The notifier: audit events in, customer mails and TMF683 interactions out (SPEC §10, #17 item 5).

`handle_events(rows)` is what the event plane's internal `notifier` subscription calls with rows of
`audit.domain_event`. Record, then send:
1. one unit of work inserts each notice's `crm.notification` row (unique key: ON CONFLICT DO NOTHING)
   and, only for the rows it inserted, the customer's interaction (channel email, the mail's wording);
   so however often the same rows come back, each notification and interaction exists once;
2. after that commit, each unsent row is locked (`SKIP LOCKED`: a concurrent run takes the others),
   mailed, and marked sent in that same transaction.
A crash between the mail and the commit of step 2 mails it again on the next run: delivery is at
least once, never lost (a row decided is a row mailed). Rows without a live email keep the
interaction and are never mailed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from activities.interaction import log_interaction
from activities.uow import unit_of_work
from core import clock, context, mailer
from core.db import get_engine
from domain.catalog import price_migration, product_offering
from domain.customer import contact_medium, customer
from domain.ids import IdKind
from domain.inventory import activation_code, esim_profile
from domain.notifications import (
    BLOCK_ADVICE,
    Notice,
    NotificationKind,
    amount,
    day,
    decide,
    first_renewal_from,
    notification,
)
from domain.payment import payment, payment_method
from domain.subscription import subscription

Row = dict[str, Any]
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).with_name("notification_templates")),
                        undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
NOTIFIER = context.RequestContext(actor="notifier", channel="system", service_identity="notifier")
ALLOWANCE_NAMES = {"data": "data", "data_roaming": "roaming data", "voice": "call minutes", "sms": "SMS"}


@dataclass(frozen=True)
class Letter:
    """One rendered notification for one customer."""

    key: str
    kind: NotificationKind
    event_id: int
    customer_id: str
    recipient: str | None
    subject: str
    body: str


class _NothingNew(Exception):
    """Every notice of the batch was decided before: roll back the (empty) unit of work."""


async def handle_events(rows: list[Row]) -> None:
    """Turn audit rows into customer notifications: each recorded once, each mailed at least once."""
    notices = [notice for row in rows for notice in decide(row)]
    if not notices:
        return
    with context.acting_as(NOTIFIER):
        async with get_engine().connect() as conn:
            # A redelivery finds its notices decided: only what is left is looked up and rendered
            # (the unique key stays the last word against a concurrent run).
            decided = set((await conn.execute(select(notification.c.key).where(
                notification.c.key.in_([n.key for n in notices])))).scalars())
            letters = [letter for notice in notices if notice.key not in decided
                       for letter in await _letters(conn, notice)]
            decided |= set((await conn.execute(select(notification.c.key).where(
                notification.c.key.in_([letter.key for letter in letters])))).scalars())
        await _record([letter for letter in letters if letter.key not in decided])
        await _send([n.key for n in notices] + [letter.key for letter in letters])


async def _record(letters: list[Letter]) -> None:
    if not letters:
        return
    try:
        async with unit_of_work() as uow:
            for letter in letters:
                interaction_id = await uow.next_id(IdKind.INTERACTION)
                inserted = (await uow.conn.execute(insert(notification).values(
                    key=letter.key, kind=letter.kind.value, event_id=letter.event_id,
                    customer_id=letter.customer_id, recipient=letter.recipient, subject=letter.subject,
                    body=letter.body, interaction_id=interaction_id, created_at=clock.now(),
                ).on_conflict_do_nothing(index_elements=[notification.c.key]).returning(notification.c.id))).first()
                if inserted is not None:
                    await log_interaction(uow, letter.customer_id, letter.subject, description=letter.body,
                                          channel="email", direction="outbound", interaction_id=interaction_id)
            if not uow.events:
                raise _NothingNew
    except _NothingNew:
        pass


async def _send(keys: list[str]) -> None:
    """Mail each unsent notification in its own transaction: a failing mail leaves only itself unsent."""
    n = notification.c
    async with get_engine().connect() as conn:
        unsent = (await conn.execute(select(n.id).where(n.key.in_(keys), n.sent_at.is_(None),
                                                        n.recipient.is_not(None)).order_by(n.id))).scalars().all()
    for ident in unsent:
        try:
            async with unit_of_work() as uow:
                # SKIP LOCKED: a concurrent run mailing this very row is left to it.
                row = (await uow.conn.execute(select(notification).where(n.id == ident, n.sent_at.is_(None))
                                              .with_for_update(skip_locked=True))).mappings().first()
                if row is None:
                    raise _NothingNew
                await mailer.send(mailer.Mail(to=row["recipient"], subject=row["subject"], text=row["body"],
                                              kind=f"notification.{row['kind']}"))
                await uow.conn.execute(update(notification).where(n.id == ident).values(sent_at=clock.now()))
                uow.record("notification.sent", "notification", row["key"],
                           {"kind": row["kind"], "customerId": row["customer_id"]})
        except _NothingNew:
            pass


def render(kind: NotificationKind, facts: Row) -> tuple[str, str]:
    """Subject and body of a notification from its template (first line `Subject: …`)."""
    text = TEMPLATES.get_template(f"{kind.value}.txt.j2").render(**facts)
    first, _, body = text.partition("\n")
    return first.removeprefix("Subject: ").strip(), body.strip() + "\n"


# --- what the database adds to a notice ------------------------------------------------------------


async def _letters(conn: AsyncConnection, notice: Notice) -> list[Letter]:
    if notice.kind is NotificationKind.PRICE_CHANGE:
        return await _price_change(conn, notice)
    line_id = notice.facts.get("subscriptionId") if notice.kind is NotificationKind.ORDER_COMPLETED \
        else notice.subject_id
    line = await _line(conn, line_id) if line_id else None
    if line is None:
        return []
    if notice.kind is NotificationKind.ORDER_COMPLETED and line["order_id"] != notice.subject_id:
        return []  # an order that changed or ended an existing line: no new eSIM to announce
    facts = {"msisdn": line["msisdn"], "name": line["customer_name"], "offering": line["offering_name"]}
    facts |= await FACTS[notice.kind](conn, notice, line)
    letters = [_letter(notice, notice.key, line, facts)]
    if notice.kind is NotificationKind.ORDER_COMPLETED:
        letters += await _pending_price_changes(conn, line, notice.event_id)
    return letters


def _letter(notice: Notice, key: str, line: Row, facts: Row) -> Letter:
    subject, body = render(notice.kind, facts)
    return Letter(key, notice.kind, notice.event_id, line["customer_id"], line["email"], subject, body)


async def _line(conn: AsyncConnection, subscription_id: str) -> Row | None:
    """The line, its customer's name and live email (preferred first), and its plan's name."""
    s, m = subscription.c, contact_medium.c
    email = (select(m.value).where(m.customer_id == s.customer_id, m.medium_type == "email", m.live)
             .order_by(m.preferred.desc(), m.id).limit(1).scalar_subquery())
    row = (await conn.execute(
        select(s.id, s.customer_id, s.msisdn, s.iccid, s.offering_id, s.price_minor, s.currency, s.period_days,
               s.current_period_start, s.current_period_end, s.blocked_reason, s.order_id,
               customer.c.name.label("customer_name"),
               func.lower(email).label("email"), product_offering.c.name.label("offering_name"))
        .join(customer, customer.c.id == s.customer_id)
        .join(product_offering, product_offering.c.id == s.offering_id)
        .where(s.id == subscription_id))).mappings().first()
    return dict(row) if row else None


async def _card(conn: AsyncConnection, customer_id: str, payment_id: str | None = None) -> str | None:
    """The card a charge used (by payment), else the customer's default card: `visa ending 4242`."""
    pm = payment_method.c
    query = select(pm.brand, pm.last4)
    if payment_id:
        query = query.join(payment, payment.c.payment_method_id == pm.id).where(payment.c.id == payment_id)
    else:
        query = query.where(pm.customer_id == customer_id, pm.is_default, pm.state == "active")
    card = (await conn.execute(query.limit(1))).first()
    return f"{card.brand} card ending {card.last4}" if card else None


async def _order_completed(conn: AsyncConnection, notice: Notice, line: Row) -> Row:
    profile = (await conn.execute(select(esim_profile.c.smdp_address, esim_profile.c.matching_id)
                                  .where(esim_profile.c.iccid == line["iccid"]))).first()
    code = activation_code(profile.smdp_address, profile.matching_id) if profile else "(ask us for it)"
    return {"order_id": notice.subject_id, "iccid": line["iccid"], "activation_code": code}


async def _bundle_used(conn: AsyncConnection, notice: Notice, line: Row) -> Row:
    f = notice.facts
    return {"percent": f["percent"], "used": f"{f['used']:,}", "total": f"{f['total']:,}", "unit": f["unit"],
            "left": f"{f['after']:,}", "allowance_name": ALLOWANCE_NAMES.get(f["allowance"], f["allowance"])}


async def _blocked(conn: AsyncConnection, notice: Notice, line: Row) -> Row:
    reason = notice.facts.get("blockReason") or line["blocked_reason"] or "unknown"
    words = {"data_exhausted": "your data allowance is used up", "renewal_declined": "the renewal was not paid"}
    return {"reason": words.get(reason, reason.replace("_", " ")),
            "advice": BLOCK_ADVICE.get(reason, "contact us; an agent can tell you what lifts it")}


async def _unblocked(conn: AsyncConnection, notice: Notice, line: Row) -> Row:
    return {}


async def _declined(conn: AsyncConnection, notice: Notice, line: Row) -> Row:
    return {"amount": amount(line["price_minor"], line["currency"]), "card": await _card(conn, line["customer_id"]),
            **await _blocked(conn, notice, line)}


async def _reminder(conn: AsyncConnection, notice: Notice, line: Row) -> Row:
    f = notice.facts
    return {"renews_on": day(f["periodEnd"]), "amount": amount(f["priceMinor"], f["currency"]),
            "offering": f.get("offeringName") or line["offering_name"],
            "card": await _card(conn, line["customer_id"])}


async def _renewed(conn: AsyncConnection, notice: Notice, line: Row) -> Row:
    f = notice.facts
    return {"amount": amount(f["priceMinor"], f["currency"]), "period_start": day(f["periodStart"]),
            "period_end": day(f["periodEnd"])}


FACTS = {
    NotificationKind.ORDER_COMPLETED: _order_completed, NotificationKind.BUNDLE_USED: _bundle_used,
    NotificationKind.LINE_BLOCKED: _blocked, NotificationKind.LINE_UNBLOCKED: _unblocked,
    NotificationKind.RENEWAL_DECLINED: _declined, NotificationKind.RENEWAL_REMINDER: _reminder,
    NotificationKind.RENEWED: _renewed,
}


async def _price_change(conn: AsyncConnection, notice: Notice) -> list[Letter]:
    """One notice per line on the offering (active or blocked), with the renewal that pays the new price."""
    mig = (await conn.execute(select(price_migration).where(price_migration.c.id == notice.subject_id))
           ).mappings().first()
    if mig is None:
        return []
    s = subscription.c
    ids = (await conn.execute(select(s.id).where(s.offering_id == mig["offering_id"],
                                                 s.state.in_(("active", "blocked"))).order_by(s.id))).scalars().all()
    lines = [line for line_id in ids if (line := await _line(conn, line_id)) is not None]
    return [_price_letter(dict(mig), line, notice.event_id) for line in lines if line["current_period_end"]]


async def _pending_price_changes(conn: AsyncConnection, line: Row, event_id: int) -> list[Letter]:
    """A line ordered after a migration was announced but before it applies hears of it with its order."""
    pm = price_migration.c
    found = (await conn.execute(select(price_migration).where(
        pm.offering_id == line["offering_id"], pm.effective_from > line["current_period_start"]))).mappings().all()
    return [_price_letter(dict(mig), line, event_id) for mig in found]


def _price_letter(mig: Row, line: Row, event_id: int) -> Letter:
    # Keyed by migration and line, whichever event tells it (the announcement or the order): once.
    applies = first_renewal_from(line["current_period_end"], line["period_days"], mig["effective_from"])
    facts = {"msisdn": line["msisdn"], "name": line["customer_name"], "offering": line["offering_name"],
             "old_price": amount(mig["from_price_minor"], mig["currency"]),
             "new_price": amount(mig["to_price_minor"], mig["currency"]),
             "effective_on": day(mig["effective_from"]), "applies_on": day(applies)}
    subject, body = render(NotificationKind.PRICE_CHANGE, facts)
    return Letter(f"{mig['id']}:{line['id']}:{NotificationKind.PRICE_CHANGE.value}", NotificationKind.PRICE_CHANGE,
                  event_id, line["customer_id"], line["email"], subject, body)
