"""Field types the operations share: business ids with their pattern and help text."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

CustomerId = Annotated[str, Field(pattern=r"^CUST-\d+$", description="Customer id (CUST-…).")]
SubscriptionId = Annotated[str, Field(pattern=r"^SUB-\d+$", description="Subscription id (SUB-…).")]
OrderId = Annotated[str, Field(pattern=r"^ORD-\d+$", description="Order id (ORD-…).")]
