"""Payment operations: cards on file (TMF670), manual charges, refunds and payment history (TMF676)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from core.scopes import Scope
from operations.fields import CustomerId, PaymentId, PaymentMethodId, RefundId
from operations.registry import Client, Input, operation

METHODS = "/tmf-api/paymentMethod/v4/paymentMethod"
PAYMENTS = "/tmf-api/paymentManagement/v4/payment"
REFUNDS = "/tmf-api/paymentManagement/v4/refund"
MAX = 1000


class AddCard(Input):
    """A bank card to put on file."""

    customer_id: CustomerId
    number: str = Field(min_length=1, max_length=40, description="Card number; tokenised by the API, never stored "
                        "or printed.", json_schema_extra={"prompt": "Card number", "secret": True})
    exp: str = Field(pattern=r"^\s*(\d{1,2}/(\d{2}|\d{4})|\d{4}-\d{2}\S*)\s*$", description="Expiry as MM/YY.")
    name: str | None = Field(default=None, min_length=1, max_length=120, description="Name on the card.")
    cvv: str | None = Field(default=None, pattern=r"^\d{3,4}$", description="Security code (checked, never stored).")


@operation("payment.add_card", scope=Scope.PAYMENT_METHOD_WRITE, routes=[f"POST {METHODS}"],
           arguments=("customer_id",))
def add_card(client: Client, args: AddCard) -> Any:
    """Put a card on file for a customer (the first card becomes the default)."""
    body = {"@type": "bankCard", "relatedParty": {"id": args.customer_id, "@referredType": "Customer"},
            "cardNumber": args.number, "expirationDate": args.exp.strip(),
            **({"nameOnCard": args.name} if args.name else {}), **({"cvv": args.cvv} if args.cvv else {})}
    return client.request("POST", METHODS, json=body)


class ListMethods(Input):
    """Whose cards."""

    customer_id: CustomerId
    include_removed: bool = Field(default=False, description="Include removed cards.",
                                  json_schema_extra={"flag": "--all"})


@operation("payment.list_methods", scope=Scope.PAYMENT_READ, routes=[f"GET {METHODS}"],
           arguments=("customer_id",), result="list")
def list_methods(client: Client, args: ListMethods) -> Any:
    """List a customer's cards on file."""
    return client.request("GET", METHODS, params={"relatedParty.id": args.customer_id, "limit": MAX,
                                                  "status": None if args.include_removed else "active"})


class WhichMethod(Input):
    """Which card on file."""

    method_id: PaymentMethodId


@operation("payment.show_method", scope=Scope.PAYMENT_READ, routes=[f"GET {METHODS}/{{method_id}}"],
           arguments=("method_id",))
def show_method(client: Client, args: WhichMethod) -> Any:
    """Show one card on file: brand, last four, expiry, whether it is the default, status."""
    return client.request("GET", f"{METHODS}/{args.method_id}")


class UpdateMethod(Input):
    """What changes on a card on file (at least one of the two)."""

    method_id: PaymentMethodId
    name: str | None = Field(default=None, min_length=1, max_length=80, description="A new name for the card.")
    preferred: bool = Field(default=False, description="Make it the customer's default card (charged for orders "
                            "and renewals).", json_schema_extra={"flag": "--default"})

    @model_validator(mode="after")
    def _something(self) -> UpdateMethod:
        if self.name is None and not self.preferred:
            raise ValueError("nothing to change: give --name and/or --default")
        return self


@operation("payment.update_method", scope=Scope.PAYMENT_METHOD_WRITE, routes=[f"PATCH {METHODS}/{{method_id}}"],
           arguments=("method_id",))
def update_method(client: Client, args: UpdateMethod) -> Any:
    """Rename a card on file or make it the default one."""
    body = {**({"name": args.name} if args.name else {}), **({"isPreferred": True} if args.preferred else {})}
    return client.request("PATCH", f"{METHODS}/{args.method_id}", json=body)


@operation("payment.remove_method", scope=Scope.PAYMENT_METHOD_WRITE,
           routes=[f"DELETE {METHODS}/{{method_id}}", f"GET {METHODS}/{{method_id}}"], destructive=True,
           arguments=("method_id",), confirm="Remove card {method_id}?", declined="nothing removed")
def remove_method(client: Client, args: WhichMethod) -> Any:
    """Remove a card on file (the last card of a customer with a live line stays)."""
    client.request("DELETE", f"{METHODS}/{args.method_id}")
    return client.request("GET", f"{METHODS}/{args.method_id}")


IdempotencyKey = Annotated[str | None, Field(min_length=1, max_length=120, description=(
    "Names the request: repeating it with the same key answers the first result and moves no more money."))]


class Amount(Input):
    """An amount of money."""

    amount: float = Field(gt=0, multiple_of=0.01, description="Amount in major units, e.g. 12.50.")
    currency: str = Field(default="SGD", pattern=r"^[A-Z]{3}$", description="ISO currency code.")


class Charge(Amount):
    """A manual charge of a customer's card."""

    customer_id: CustomerId
    method_id: str | None = Field(default=None, pattern=r"^PM-\d+$", description="The card to charge "
                                  "(PM-…); default: the customer's default card.", json_schema_extra={"flag": "--card"})
    reference: str | None = Field(default=None, pattern=r"^(ORD|SUB|BILL)-[0-9A-Z]+$", description="What it pays "
                                  "for: an order, line or bill id.", json_schema_extra={"flag": "--for"})
    idempotency_key: IdempotencyKey = None


@operation("payment.charge", scope=Scope.PAYMENT_CHARGE, routes=[f"POST {PAYMENTS}"], destructive=True, charges=True,
           arguments=("customer_id",), confirm="Charge {amount:.2f} {currency} to {customer_id}'s card?",
           declined="not charged")
def charge(client: Client, args: Charge) -> Any:
    """Charge a customer's card now (a manual payment); a declined card answers a declined payment."""
    body = {"account": {"id": args.customer_id, "@referredType": "Customer"},
            "paymentMethod": {"id": args.method_id} if args.method_id else {},
            "totalAmount": {"unit": args.currency, "value": args.amount},
            **({"correlatorId": args.idempotency_key} if args.idempotency_key else {}),
            **({"paymentItem": [{"item": {"id": args.reference}}]} if args.reference else {})}
    return client.request("POST", PAYMENTS, json=body)


class Refund(Amount):
    """A refund of part or all of an approved payment."""

    payment_id: PaymentId
    reason: str = Field(min_length=1, max_length=200, description="Why it is refunded (kept with the refund).")
    idempotency_key: IdempotencyKey = None


@operation("payment.refund", scope=Scope.PAYMENT_REFUND, routes=[f"POST {REFUNDS}"], destructive=True,
           arguments=("payment_id",), confirm="Refund {amount:.2f} {currency} of {payment_id}?",
           declined="not refunded")
def refund(client: Client, args: Refund) -> Any:
    """Refund part or all of an approved payment to the card it came from (never more than was paid)."""
    body = {"payment": {"id": args.payment_id}, "totalAmount": {"unit": args.currency, "value": args.amount},
            "description": args.reason, **({"correlatorId": args.idempotency_key} if args.idempotency_key else {})}
    return client.request("POST", REFUNDS, json=body)


class WhichPayment(Input):
    """Which payment."""

    payment_id: PaymentId


@operation("payment.show", scope=Scope.PAYMENT_READ, routes=[f"GET {PAYMENTS}/{{payment_id}}"],
           arguments=("payment_id",))
def show(client: Client, args: WhichPayment) -> Any:
    """Show one payment: amount, card, status and decline reason, what it paid for."""
    return client.request("GET", f"{PAYMENTS}/{args.payment_id}")


class WhichRefund(Input):
    """Which refund."""

    refund_id: RefundId


@operation("payment.show_refund", scope=Scope.PAYMENT_READ, routes=[f"GET {REFUNDS}/{{refund_id}}"],
           arguments=("refund_id",))
def show_refund(client: Client, args: WhichRefund) -> Any:
    """Show one refund: amount, the payment it returns, reason and status."""
    return client.request("GET", f"{REFUNDS}/{args.refund_id}")


class History(Input):
    """Whose payments."""

    customer_id: CustomerId


@operation("payment.history", scope=Scope.PAYMENT_READ, routes=[f"GET {PAYMENTS}", f"GET {REFUNDS}"],
           arguments=("customer_id",))
def history(client: Client, args: History) -> Any:
    """Show a customer's payments and refunds."""
    params = {"account.id": args.customer_id, "limit": MAX}
    return {"payments": client.request("GET", PAYMENTS, params=params),
            "refunds": client.request("GET", REFUNDS, params=params)}
