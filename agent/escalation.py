"""Escalation: five kinds of request go to a person, not the model — fraud, billing dispute, regulator
complaint, identity recovery, bereavement.

Detection is by phrase rules on the customer's message (regular expressions per category, checked in
the order of `RULES`; no model is asked). On a match, before the model sees the message: a note quoting
the message is written to the transcript, the transcript up to that note is hashed (SHA-256, as the API
computes it: `GET /agent-api/v1/session/{id}?upTo=N`), a case is opened for the customer through the
`case.open` operation (priority high, the category, the session, the position and the hash in its
description), a second note records the case (`agent.escalated` audit event), and the turn answers that
a person will follow up (`Stop.escalated` → `EventKind.ESCALATED`). If the case cannot be opened the turn
still stops, and says so instead of promising a call-back. Customer profile only: an operator is the person.
"""

from __future__ import annotations

import re
from typing import Any

from agent.rails import SESSION_HEADER, Rails, Stop, TurnContext
from agent.rails_impl import FAILURES, customer_turn, log, note

ESCALATED = "agent.escalated"
# category -> (label, patterns); the first category with a matching pattern wins.
RULES: dict[str, tuple[str, list[str]]] = {
    "bereavement": ("bereavement", [
        r"\b(passed away|has died|died|deceased|bereave(d|ment)|funeral)\b",
        r"\b(my )?late (husband|wife|father|mother|dad|mum|mom|son|daughter|partner|brother|sister)\b"]),
    "fraud": ("fraud", [
        r"\bfraud(ulent|ster)?\b", r"\bscam(med|mer)?\b", r"\bsim[- ]?swap", r"\bhacked\b",
        r"\bstolen\b",
        r"\b(unauthori[sz]ed|did ?n[o']?t (make|authori[sz]e))\b.{0,40}\b(charges?|payments?|purchases?|transactions?)\b"]),
    "identity_recovery": ("identity recovery", [
        r"\blocked out\b", r"\b(lost|regain|recover)( access to| my)? (account|number|login)\b",
        r"\b(can ?not|can'?t|unable to) (log ?in|sign ?in|access my account)\b",
        r"\bidentity (theft|recovery)\b", r"\bsomeone (else )?(took over|changed) my (account|number|email|password)\b"]),
    "regulator_complaint": ("regulator complaint", [
        r"\b(regulator|ombudsman|imda|ofcom|fcc|casetrust|consumer association|tribunal)\b",
        r"\b(formal|official) complaint\b", r"\b(lawyer|legal action|sue you|small claims)\b"]),
    "billing_dispute": ("billing dispute", [
        r"\bdisput(e|ing)\b", r"\bover-?charg(ed|ing)\b", r"\b(double|twice)[- ]?(charged|billed)\b",
        r"\bcharged (me )?twice\b", r"\bchargeback\b",
        r"\b(wrong|incorrect|unfair) (bill|charge|amount)s?\b", r"\bbill(ed)? (me )?(wrongly|incorrectly)\b"]),
}
COMPILED = {category: [re.compile(p, re.IGNORECASE) for p in patterns] for category, (_, patterns) in RULES.items()}
MAX_QUOTE = 2000


def category_of(message: str) -> str | None:
    """The escalation category a customer's message falls in, or None."""
    for category, patterns in COMPILED.items():
        if any(p.search(message) for p in patterns):
            return category
    return None


def _open_case(ctx: TurnContext, category: str, upto: int, sha256: str) -> dict[str, Any]:
    from core.api_client import BssClient
    from operations.case import open_

    label = RULES[category][0]
    description = (f"Escalated by the agent: the customer's message in session {ctx.session_id} reads as a "
                   f"{label}, which a person handles. Transcript {ctx.session_id} up to entry {upto}, "
                   f"SHA-256 {sha256} (GET /agent-api/v1/session/{ctx.session_id}?upTo={upto}). "
                   "Contact the customer.")
    with BssClient(surface="agent", on_behalf_of=ctx.customer_id, headers={SESSION_HEADER: ctx.session_id}) as client:
        return open_(client, {"customer_id": ctx.customer_id, "title": f"Agent escalation: {label}",
                              "priority": "high", "category": category, "description": description})


class Escalation(Rails):
    """The escalation rail (see the module's docstring)."""

    def before_turn(self, ctx: TurnContext, message: str) -> Stop | None:
        """A message of one of the five categories opens a case and ends the turn."""
        if not customer_turn(ctx) or not message:
            return None
        category = category_of(message)
        if category is None:
            return None
        from agent import conversations

        label = RULES[category][0]
        try:
            quote = message if len(message) <= MAX_QUOTE else message[:MAX_QUOTE] + "…"
            upto = note(ctx, f"escalation ({label}): the customer wrote: {quote}", ESCALATED,
                        {"category": category, "stage": "detected"})
            sha256 = conversations.read(ctx.session_id, ctx.customer_id, up_to=upto)["transcriptSha256"]
            case = _open_case(ctx, category, upto or 0, sha256)
        except FAILURES as exc:
            log.exception("escalation: no case could be opened (session %s)", ctx.session_id)
            return Stop(reason=f"escalation ({label}): the case could not be opened ({str(exc)[:120]})",
                        answer="This needs a person from our team, and I couldn't pass it on just now. "
                               "Please contact customer care directly so they can help you.")
        try:
            note(ctx, f"escalated ({label}) to {case['id']}; transcript up to entry {upto} has SHA-256 {sha256}",
                 ESCALATED, {"category": category, "case_id": case["id"], "up_to": upto, "sha256": sha256})
        except FAILURES:
            log.exception("escalation: the case's note could not be written (session %s)", ctx.session_id)
        return Stop(reason=f"escalated ({label}): {case['id']} opened", escalated=category, case_id=case["id"],
                    answer=f"I've passed this to our team as case {case['id']} ({label}). A person will follow up "
                           "with you; there is nothing more you need to do here.")


def rails() -> Rails:
    """The escalation rail of this process (found by `agent.rails.load_rails`)."""
    return Escalation()
