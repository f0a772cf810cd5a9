"""Field types the operations share: business ids with their pattern and help text."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

CustomerId = Annotated[str, Field(pattern=r"^CUST-\d+$", description="Customer id (CUST-…).")]
SubscriptionId = Annotated[str, Field(pattern=r"^SUB-\d+$", description="Subscription id (SUB-…).")]
OrderId = Annotated[str, Field(pattern=r"^ORD-\d+$", description="Order id (ORD-…).")]
PaymentMethodId = Annotated[str, Field(pattern=r"^PM-\d+$", description="Payment method (card on file) id (PM-…).")]
PaymentId = Annotated[str, Field(pattern=r"^PAY-\d+$", description="Payment id (PAY-…).")]
RefundId = Annotated[str, Field(pattern=r"^REF-\d+$", description="Refund id (REF-…).")]
BillId = Annotated[str, Field(pattern=r"^BILL-\d+$", description="Bill id (BILL-…).")]
UsageId = Annotated[str, Field(pattern=r"^USG-\d+$", description="Usage record id (USG-…).")]
CaseId = Annotated[str, Field(pattern=r"^CASE-\d+$", description="Case id (CASE-…).")]
TicketId = Annotated[str, Field(pattern=r"^TT-\d+$", description="Ticket id (TT-…).")]
# The customer id pattern for an optional filter (`str | None = Field(pattern=CUSTOMER_ID)`): an
# Annotated id inside `| None` would reach the CLI generator as a type it cannot parse.
CUSTOMER_ID = r"^CUST-\d+$"
