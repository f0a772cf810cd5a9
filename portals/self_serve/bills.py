"""Billing history: the customer's bills (TMF678), one bill with its lines, and the bill's document.

The document is the text the API renders (`bill.document`, what the bill's `billDocument` links):
shown on the bill's page as preformatted text and served as a text/plain file to save or print.
Amounts come as TMF `Money` (major units) and are turned back into integer minor units before
they are formatted, so the page shows exactly what was charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from operations import bill as bills_op
from portals.self_serve.catalog_view import money
from portals.self_serve.settings import call, owned_id, signed_in
from portals.web import Portal

WHAT = {"activation": "First period and activation", "renewal": "Plan renewal", "vas": "Add-on or top-up",
        "planChange": "Plan change"}


def minor(amount: dict[str, Any] | None) -> tuple[int, str]:
    """(minor units, currency) of a TMF `Money`; rounding undoes the float of the wire, never truncates."""
    amount = amount or {}
    return round(float(amount.get("value", 0)) * 100), amount.get("unit", "SGD")


def day(stamp: str | None) -> str:
    """`7 Dec 2026` from an ISO date-time."""
    if not stamp:
        return ""
    when = datetime.fromisoformat(stamp)
    return f"{when.day} {when:%b %Y}"


@dataclass(frozen=True)
class Bill:
    """One bill as the pages show it."""

    id: str
    date: str
    what: str
    period: str
    total: str
    paid_with: str


@dataclass(frozen=True)
class BillLine:
    """One charge on a bill."""

    description: str
    amount: str


def bill_of(body: dict[str, Any]) -> Bill:
    """The page's view of a TMF678 `CustomerBill`."""
    period = body.get("billingPeriod") or {}
    span = " – ".join(d for d in (day(period.get("startDateTime")), day(period.get("endDateTime"))) if d)
    return Bill(id=body["id"], date=day(body.get("billDate")), what=WHAT.get(body.get("category", ""), "Charge"),
                period=span, total=money(*minor(body.get("taxIncludedAmount") or body.get("amountDue"))),
                paid_with=(body.get("paymentMethod") or {}).get("name", ""))


def lines_of(rates: list[dict[str, Any]]) -> list[BillLine]:
    """The bill's charges from its applied billing rates."""
    return [BillLine(description=r.get("description") or r.get("name") or "Charge",
                     amount=money(*minor(r.get("taxIncludedAmount")))) for r in rates]


def add_bills_routes(app: FastAPI, portal: Portal) -> None:
    """Register the billing history pages."""

    @app.get("/account/bills", response_class=HTMLResponse)
    async def bills_page(request: Request) -> HTMLResponse:
        session = await signed_in(request)
        found = await call(portal, session, bills_op.list_, customer_id=session.customer_id)
        return portal.page(request, "bills.html", bills=[bill_of(b) for b in found], page="bills")

    @app.get("/account/bills/{bill_id}", response_class=HTMLResponse)
    async def bill_page(request: Request, bill_id: str) -> HTMLResponse:
        owned_id("bill", bill_id)
        session = await signed_in(request)
        # Another customer's bill is the API's 404 for this bound call: the not-found page, nothing shown.
        shown = await call(portal, session, bills_op.show, bill_id=bill_id)
        document = await call(portal, session, bills_op.document, bill_id=bill_id)
        return portal.page(request, "bills_one.html", bill=bill_of(shown["customerBill"]),
                           lines=lines_of(shown["appliedCustomerBillingRate"]), document=document,
                           page="bills")

    @app.get("/account/bills/{bill_id}/document", response_class=PlainTextResponse)
    async def bill_document(request: Request, bill_id: str) -> PlainTextResponse:
        owned_id("bill", bill_id)
        session = await signed_in(request)
        text = await call(portal, session, bills_op.document, bill_id=bill_id)
        return PlainTextResponse(text, headers={
            "Content-Disposition": f'inline; filename="{bill_id}.txt"', "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff"})  # text stays text, whatever a line of it looks like
