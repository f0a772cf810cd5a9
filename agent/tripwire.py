"""The trip-wire: no tool result and no answer of the customer profile names another customer's identifiers.

Candidates are found by pattern in a tool result (its JSON) and in an answer (its text): business ids
(`CUST-`, `SUB-`, `ORD-`, `IND-`, `CASE-`, `TT-`, `PM-`, `PAY-`, `REF-`, `BILL-`, `INT-`, `USG-`), e-mail
addresses, and digit runs of 8–20 (MSISDNs 8–15, ICCIDs 18–20). What the bound customer owns comes from
the API once per session (`GET /agent-api/v1/customer/{id}/identifiers`, cached); a candidate not known
yet is asked about (the same call with `check=`), so an order the turn just created is found owned and
a number that is nobody's (an amount, a timestamp) is cleared, each once per session. A candidate that
belongs to another customer trips, and so does a business id the customer does not own even if no one
does (else the refusal would tell an existing id from a made-up one, which the API's 404 does not): the result is replaced by a refusal (`agent.tripwire.foreign_identifier`)
that names only the kinds, the answer by a refusal, and a note with the audit event is written. When
the look-up fails the rail fails closed (`agent.tripwire.unverified`). The operator profile is not
checked: care staff see many customers by design.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from agent.rails import Rails, Stop, TurnContext
from agent.rails_impl import FAILURES, customer_turn, log, note, refusal

FOREIGN = "agent.tripwire.foreign_identifier"
UNVERIFIED = "agent.tripwire.unverified"
PREFIXES = {"CUST": "customer id", "IND": "individual id", "SUB": "subscription id", "ORD": "order id",
            "CASE": "case id", "TT": "ticket id", "PM": "payment method id", "PAY": "payment id",
            "REF": "refund id", "BILL": "bill id", "INT": "interaction id", "USG": "usage record id"}
BUSINESS_ID = re.compile(r"\b(?:" + "|".join(PREFIXES) + r")-\d{1,18}\b")
EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
DIGITS = re.compile(r"(?<!\w)\+?(\d{8,20})(?!\w)")
ANSWER_REFUSED = ("I can't share that: it concerns another customer's account. I can only help with your own "
                  "account — ask me about your lines, balances, usage, bills or plans.")
MAX_SESSIONS = 256
MAX_CHECK = 200


def candidates(text: str) -> set[str]:
    """The identifiers of the kinds the trip-wire knows that `text` names (e-mails lower-cased)."""
    found = set(BUSINESS_ID.findall(text))
    found |= {m.lower() for m in EMAIL.findall(text)}
    found |= {m for m in DIGITS.findall(text) if len(m) <= 15 or len(m) >= 18}
    return found


def kind(identifier: str) -> str:
    """What an identifier is, in words (`subscription id`, `MSISDN`, `ICCID`, `e-mail address`)."""
    if "@" in identifier:
        return "e-mail address"
    if identifier.isdigit():
        return "MSISDN" if len(identifier) <= 15 else "ICCID"
    return PREFIXES.get(identifier.split("-", 1)[0], "identifier")


class Unverified(Exception):
    """The owned identifiers could not be read: the rail refuses rather than guess."""


@dataclass
class Known:
    """What one session learned: the customer's identifiers, the ones cleared, the ones found foreign."""

    owned: set[str] = field(default_factory=set)
    cleared: set[str] = field(default_factory=set)
    foreign: set[str] = field(default_factory=set)
    loaded: bool = False


class TripWire(Rails):
    """The trip-wire rail (see the module's docstring)."""

    def __init__(self) -> None:
        self._known: OrderedDict[tuple[str, str], Known] = OrderedDict()

    def _session(self, ctx: TurnContext) -> Known:
        key = (ctx.session_id, ctx.customer_id or "")
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = Known()
            while len(self._known) > MAX_SESSIONS:
                self._known.popitem(last=False)
        return known

    def foreign(self, ctx: TurnContext, text: str) -> list[str]:
        """The identifiers in `text` that belong to another customer (raises `Unverified`)."""
        from agent import conversations

        known = self._session(ctx)
        named = candidates(text)
        unknown = sorted(named - known.owned - known.cleared - known.foreign)
        while unknown or (named and not known.loaded):
            ask, unknown = unknown[:MAX_CHECK], unknown[MAX_CHECK:]
            try:
                answer = conversations.identifiers(ctx.customer_id or "", ask, ctx.session_id, ctx.customer_id)
            except FAILURES as exc:  # the API away, a refusal: nothing is shown unchecked
                raise Unverified(str(exc)) from exc
            known.owned |= set(answer.get("owned", []))
            known.foreign |= set(answer.get("foreign", []))
            # A business id the customer does not own is refused whether or not it exists, so the refusal
            # tells no more than the API's 404 does; a number or an address only when it is someone's.
            known.foreign |= {i for i in ask if BUSINESS_ID.fullmatch(i)} - known.owned
            known.cleared |= set(ask) - known.foreign - known.owned
            known.loaded = True
        return sorted(named & known.foreign)

    def _trip(self, ctx: TurnContext, where: str, found: list[str]) -> list[str]:
        kinds = sorted({kind(i) for i in found})
        try:
            note(ctx, f"trip-wire: the {where} named {len(found)} identifier(s) of another customer "
                      f"({', '.join(kinds)}); withheld ({FOREIGN})", FOREIGN,
                 {"where": where, "kinds": kinds, "identifiers": found})
        except FAILURES:
            log.exception("trip-wire: the refusal's audit note could not be written")
        return kinds

    def after_tool(self, ctx: TurnContext, operation: str, args: dict[str, Any], result: Any) -> Any:
        """A result naming another customer's identifiers is replaced by a refusal."""
        if not customer_turn(ctx):
            return result
        try:
            found = self.foreign(ctx, json.dumps(result, default=str, ensure_ascii=False))
        except Unverified as exc:
            return refusal(UNVERIFIED, "the result could not be checked for other customers' data, so it is withheld",
                           {"operation": operation, "reason": str(exc)[:200]})
        if not found:
            return result
        kinds = self._trip(ctx, f"result of {operation}", found)
        return refusal(FOREIGN, "the result named another customer's data and is withheld; "
                                "answer only about the customer's own account",
                       {"operation": operation, "kinds": kinds})

    def after_answer(self, ctx: TurnContext, text: str) -> str | Stop:
        """An answer naming another customer's identifiers is replaced by a refusal (and the turn stops)."""
        if not customer_turn(ctx):
            return text
        try:
            found = self.foreign(ctx, text)
        except Unverified:
            return Stop(reason=f"trip-wire: the answer could not be checked for other customers' data; withheld "
                               f"({UNVERIFIED})", answer=ANSWER_REFUSED)
        if not found:
            return text
        kinds = self._trip(ctx, "answer", found)
        return Stop(reason=f"trip-wire: the answer named another customer's {', '.join(kinds)}; "
                           f"refused and audited ({FOREIGN})", answer=ANSWER_REFUSED)


def rails() -> Rails:
    """The trip-wire rail of this process (found by `agent.rails.load_rails`)."""
    return TripWire()
