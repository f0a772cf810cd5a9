"""The signup wizard's state and rules, pure: what each step needs, and the order's progress in words.

The state lives server-side in the portal session's `data` (under `signup`), written only by the
portal after it checked a step; a form never carries it. So a skipped or replayed step is found by
looking at the state, never by trusting a hidden field: each step names the step that must be done
before it, and the page sends the visitor back there with a message.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

KEY = "signup"  # the session data key the wizard keeps its state under
STEPS = ("plan", "number", "details", "card", "progress", "done")
TITLES = {"plan": "Plan and email", "number": "Your number", "details": "About you", "card": "Payment card",
          "progress": "Setting up", "done": "Your eSIM"}
NUMBER = re.compile(r"^[0-9]{8,15}$")
PHONE = re.compile(r"^\+?[0-9]{6,15}$")
DOCUMENT = re.compile(r"^[A-Z0-9]{6,12}$")


@dataclass
class SignupState:
    """What the visitor has chosen so far, and what the portal created for them."""

    plan: str | None = None
    msisdn: str | None = None
    given: str | None = None
    family: str | None = None
    phone: str | None = None
    document_type: str | None = None
    document_number: str | None = None
    customer_id: str | None = None
    card_id: str | None = None
    order_id: str | None = None
    attempt: int = 0  # orders placed; a retry after a declined card is a new order with a new request id
    replaced_cards: list[str] = field(default_factory=list)

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> SignupState:
        """The state kept in a session's data (unknown keys ignored, so an older portal's state still loads)."""
        raw = (data or {}).get(KEY) or {}
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names}) if isinstance(raw, dict) else cls()

    def to_data(self, data: dict[str, Any] | None) -> dict[str, Any]:
        """The session's data with this state in it (other keys kept)."""
        return {**(data or {}), KEY: asdict(self)}

    @property
    def has_details(self) -> bool:
        """Name, phone and identity document are given."""
        return bool(self.given and self.family and self.phone and self.document_type and self.document_number)


def needed_before(state: SignupState, step: str) -> tuple[str, str] | None:
    """The earlier step that `step` needs and is not done, with the message to show; None when ready."""
    if step in ("number", "details", "card", "progress", "done") and not state.plan:
        return "plan", "Choose a plan first."
    if step in ("details", "card", "progress", "done") and not state.msisdn:
        return "number", "Choose your number first."
    if step in ("card", "progress", "done") and not (state.has_details and state.customer_id):
        return "details", "Tell us your name, phone number and identity document first."
    if step in ("progress", "done") and not state.order_id:
        return "card", "Add the card to pay with first."
    return None


def digits(text: str) -> str:
    """A number as people type it, without spaces, dashes, dots or brackets."""
    return re.sub(r"[\s().-]", "", text or "")


def check_details(given: str, family: str, phone: str, document_type: str, document_number: str, *,
                  attested: bool = False) -> dict[str, str]:
    """Field name → what is wrong with it, for the obvious mistakes (the API has the last word).

    With `attested`, an empty document number keeps the document already checked.
    """
    problems = {}
    if not given.strip() or len(given) > 100:
        problems["given"] = "Enter your given name."
    if not family.strip() or len(family) > 100:
        problems["family"] = "Enter your family name."
    if not PHONE.match(digits(phone)):
        problems["phone"] = "Enter a phone number, digits only, with an optional + in front."
    if document_type not in ("nric", "passport"):
        problems["document_type"] = "Choose NRIC/FIN or passport."
    if not (attested and not document_number) and not DOCUMENT.match(normal_document(document_number)):
        problems["document_number"] = "Enter the document number as printed on it."
    return problems


def normal_document(number: str) -> str:
    """A document number upper-cased, without spaces or hyphens."""
    return re.sub(r"[\s-]", "", number or "").upper()


def card_problems(number: str, exp: str, cvv: str, name: str = "") -> dict[str, str]:
    """Field name → what is wrong, for a card form (format only; the API tokenises and checks the rest)."""
    problems = {}
    if not re.fullmatch(r"[0-9]{12,19}", digits(number)):
        problems["number"] = "Enter the card number: 12 to 19 digits."
    if not re.fullmatch(r"\s*\d{1,2}/(\d{2}|\d{4})\s*", exp or ""):
        problems["exp"] = "Enter the expiry date as MM/YY."
    if cvv and not re.fullmatch(r"\d{3,4}", cvv):
        problems["cvv"] = "The security code is the 3 or 4 digits on the back of the card."
    if len(name) > 120:
        problems["name"] = "The name on the card is at most 120 characters."
    return problems


# The order workflow's milestones (its `step: …` note) as the progress list shows them.
STAGES = (
    ("received", "Order received", ("ACKNOWLEDGED",)),
    ("reserved", "Number and eSIM reserved", ("RESERVED",)),
    ("paid", "Payment taken", ("PAID",)),
    ("network", "Setting up your line on the network", ("SERVICE_ORDERED", "PROVISIONING", "STUCK")),
    ("activating", "Activating your line", ("ACTIVATING",)),
    ("live", "Your line is live", ("COMPLETED",)),
)


@dataclass(frozen=True)
class Progress:
    """An order as the progress page shows it."""

    state: str  # acknowledged | inProgress | completed | failed | cancelled
    step: str
    line_id: str | None
    msisdn: str | None
    reason: str | None

    @property
    def finished(self) -> bool:
        """The order will not change any more."""
        return self.state in ("completed", "failed", "cancelled")

    @property
    def stuck(self) -> bool:
        """A network task waits for an operator."""
        return self.step == "STUCK"

    def stages(self) -> list[tuple[str, str, str]]:
        """(key, label, done|current|todo) for each stage; all done once completed."""
        reached = next((i for i, (_, _, steps) in enumerate(STAGES) if self.step in steps), 0)
        if self.state == "completed":
            reached = len(STAGES)
        return [(key, label, "done" if i < reached else "current" if i == reached else "todo")
                for i, (key, label, _) in enumerate(STAGES)]

    @property
    def declined(self) -> bool:
        """The card was declined: another card may succeed."""
        return bool(self.reason and self.reason.startswith("payment.declined"))

    @property
    def number_taken(self) -> bool:
        """The chosen number went to someone else: another number may succeed."""
        reason = self.reason or ""
        return "msisdn" in reason and "available" in reason

    def reason_in_words(self) -> str:
        """Why the order failed, for a person."""
        reason = self.reason or ""
        if "insufficient_funds" in reason:
            return "Your card was declined: the bank says there are not enough funds. Nothing was charged."
        if self.declined:
            return "Your card was declined by your bank. Nothing was charged."
        if self.number_taken:
            return "The number you chose was taken by someone else a moment ago. Nothing was charged."
        if self.state == "cancelled":
            return "Your order was cancelled. Anything charged has been refunded."
        return "We could not set up your line. Anything charged has been refunded; our team has been told."


def progress_of(order: dict[str, Any]) -> Progress:
    """The progress of a TMF622 order as the API answers it."""
    notes = [n.get("text", "") for n in order.get("note", [])]
    step = next((n.removeprefix("step: ") for n in notes if n.startswith("step: ")), "ACKNOWLEDGED")
    reason = next((n for n in notes if not n.startswith("step: ")), None)
    product = ((order.get("productOrderItem") or [{}])[0]).get("product") or {}
    msisdn = next((c.get("value") for c in product.get("productCharacteristic", []) if c.get("name") == "msisdn"),
                  None)
    return Progress(state=order.get("state", "acknowledged"), step=step, line_id=product.get("id"),
                    msisdn=msisdn, reason=reason)


def pretty_number(msisdn: str | None) -> str:
    """`9000 0123` from 90000123 (8-digit local numbers in two groups; others as they are)."""
    if msisdn and len(msisdn) == 8 and msisdn.isdigit():
        return f"{msisdn[:4]} {msisdn[4:]}"
    return msisdn or ""
