"""The payment gateway simulator: the card processor outside our walls, in-process and deterministic.

Tokens. The API (which tokenises) and the workers (which charge) are different processes, so a
`tok_… → card` map in one process's memory would be invisible to the other, and keeping it in a
table of ours would make the BSS database the card vault we promised not to be. Tokens are
therefore self-describing and signed:

    tok_v1_<payload>.<sig>   payload = base64url("<behaviour>.<YYYYMM>.<nonce>")
                             sig     = HMAC-SHA256(simulator key, payload), truncated

The payload carries only what the simulated processor needs to answer a charge: the test-card
behaviour class (approve / decline / insufficient_funds / processing_error, SPEC §3) and the expiry
month. It never carries the card number, not even hashed: a PAN has so little entropy (known BIN,
known last four, Luhn) that any hash of it could be brute-forced from the token. The nonce is
random, so tokenising the same card twice gives two unrelated tokens. The signature stops anyone
who can write a token string (a client, a row edit) from minting a token that the processor did not
issue; a forged or altered token is declined as `invalid_token`. The key is the simulated
processor's own secret, not a BSS secret; a real PSP adapter replaces this module wholesale.

Charges and refunds. `charge` is idempotent on the caller's key: the same key with the same
request returns the same attempt, a different request under a used key raises
`IdempotencyMismatch`, and the charge reference is derived from the key. `lookup` answers "what
happened to key K" without charging: the BSS asks it when it gives up on a charge whose outcome it
could not record, and then either records the approval and refunds it, or knows nothing was taken.
The ledger (charges, refunds) is the outside world's memory, so it outlives our processes: a
SQLite file under the stack's home, shared by the API and the worker the way one processor serves
both (in memory when no path is given, as in unit tests). `processing_error` attempts are not
remembered under the key: a retry is a new attempt. Request counters are per process (tests).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core import clock
from core.settings import get_settings
from core.telemetry import external_call, mark_error
from domain.payment import card_expired, luhn_ok, normalise_card_number
from simulators.cards import DECLINE_CODES, Behaviour, behaviour_of, brand_of

SIMULATOR_KEY = b"bss-cli payment gateway simulator v1"
TOKEN_PREFIX = "tok_v1_"
PEER = "payment-gateway"  # how traces name this outside system
CHARGE_PREFIX = "ch_"
REFUND_PREFIX = "re_"


class GatewayError(Exception):
    """The gateway refused a request outright (not a decline); `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class IdempotencyMismatch(GatewayError):
    """An idempotency key was reused for a different request."""


@dataclass(frozen=True)
class CardToken:
    """What tokenising a card returns: the token and what may be shown of the card."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class ChargeAttempt:
    """The processor's answer to one charge."""

    status: str                   # approved | declined | error
    amount_minor: int
    currency: str
    idempotency_key: str
    reference: str | None = None  # set for approved and declined charges
    decline_code: str | None = None


@dataclass(frozen=True)
class RefundAttempt:
    """The processor's answer to one refund."""

    status: str                   # approved | declined
    amount_minor: int
    idempotency_key: str
    charge_reference: str
    reference: str | None = None
    decline_code: str | None = None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS charge (idempotency_key TEXT PRIMARY KEY, token TEXT NOT NULL, status TEXT NOT NULL,
    amount_minor INTEGER NOT NULL, currency TEXT NOT NULL, reference TEXT, decline_code TEXT);
CREATE TABLE IF NOT EXISTS refund (idempotency_key TEXT PRIMARY KEY, status TEXT NOT NULL,
    amount_minor INTEGER NOT NULL, charge_reference TEXT NOT NULL, reference TEXT, decline_code TEXT);
"""


class _Ledger:
    """The processor's books: one SQLite database, each operation one immediate (exclusive-write) transaction."""

    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path) if path else ":memory:", isolation_level=None, timeout=10,
                                   check_same_thread=False)
        if path is not None:
            # WAL + NORMAL: a commit costs no fsync, yet the books survive a crash of any of our processes.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; other processes sharing the file wait for it."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def charge(self, db: sqlite3.Connection, key: str) -> tuple[str, ChargeAttempt] | None:
        """The (token, attempt) remembered under a charge key."""
        row = db.execute("SELECT token, status, amount_minor, currency, reference, decline_code FROM charge "
                         "WHERE idempotency_key = ?", (key,)).fetchone()
        if row is None:
            return None
        token, status, amount, currency, reference, code = row
        return token, ChargeAttempt(status, amount, currency, key, reference, code)

    def refund(self, db: sqlite3.Connection, key: str) -> RefundAttempt | None:
        """The attempt remembered under a refund key."""
        row = db.execute("SELECT status, amount_minor, charge_reference, reference, decline_code FROM refund "
                         "WHERE idempotency_key = ?", (key,)).fetchone()
        return None if row is None else RefundAttempt(row[0], row[1], key, row[2], row[3], row[4])

    def refunded(self, db: sqlite3.Connection, charge_reference: str) -> int:
        """Minor units refunded of a charge so far."""
        return db.execute("SELECT coalesce(sum(amount_minor), 0) FROM refund WHERE charge_reference = ? "
                          "AND status = 'approved'", (charge_reference,)).fetchone()[0]

    def clear(self) -> None:
        """Forget everything (tests)."""
        with self.transaction() as db:
            db.execute("DELETE FROM charge")
            db.execute("DELETE FROM refund")


class PaymentGateway:
    """A deterministic card processor: tokenise, charge, look a charge up, refund."""

    def __init__(self, key: bytes = SIMULATOR_KEY, ledger: Path | None = None) -> None:
        self._key = key
        self._lock = threading.Lock()  # one request at a time in this process; the file serialises processes
        self._ledger = _Ledger(ledger)
        self.charge_requests: Counter[str] = Counter()              # idempotency key -> requests seen
        self.refund_requests: Counter[str] = Counter()

    def reset(self) -> None:
        """Forget every charge and refund (tests)."""
        with self._lock:
            self._ledger.clear()
            self.charge_requests.clear()
            self.refund_requests.clear()

    # -- signing -----------------------------------------------------------------------------
    def _sign(self, kind: str, payload: str) -> str:
        return _b64(hmac.new(self._key, f"{kind}|{payload}".encode(), hashlib.sha256).digest()[:16])

    def _seal(self, kind: str, fields: list[str]) -> str:
        payload = _b64(".".join(fields).encode())
        return f"{payload}.{self._sign(kind, payload)}"

    def _open(self, kind: str, sealed: str) -> list[str] | None:
        payload, _, sig = sealed.rpartition(".")
        if not payload or not hmac.compare_digest(sig, self._sign(kind, payload)):
            return None
        try:
            return _unb64(payload).decode().split(".")
        except (ValueError, UnicodeDecodeError):
            return None

    def _derived(self, kind: str, key: str) -> str:
        return _b64(hmac.new(self._key, f"{kind}|{key}".encode(), hashlib.sha256).digest()[:12])

    # -- operations --------------------------------------------------------------------------
    def tokenize(self, card_number: str, exp_month: int, exp_year: int, cvc: str | None = None) -> CardToken:
        """Exchange a card number for a token; the number is forgotten when this returns."""
        with external_call(PEER, "tokenize", refusals=(GatewayError,)):  # nothing of the card in the span
            return self._tokenize(card_number, exp_month, exp_year, cvc)

    def _tokenize(self, card_number: str, exp_month: int, exp_year: int, cvc: str | None) -> CardToken:
        number = normalise_card_number(card_number)
        if not luhn_ok(number):
            raise GatewayError("invalid_number", "the card number is not valid")
        if not 1 <= exp_month <= 12 or card_expired(exp_month, exp_year, clock.now()):
            raise GatewayError("expired_card", "the card has expired")
        if cvc is not None and not (cvc.isdigit() and len(cvc) in (3, 4)):
            raise GatewayError("invalid_cvc", "the security code is not valid")
        fields = [behaviour_of(number).value, f"{exp_year:04d}{exp_month:02d}", secrets.token_hex(8)]
        return CardToken(token=TOKEN_PREFIX + self._seal("tok", fields), brand=brand_of(number),
                         last4=number[-4:], exp_month=exp_month, exp_year=exp_year)

    def _card(self, token: str) -> tuple[Behaviour, int, int] | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        fields = self._open("tok", token[len(TOKEN_PREFIX):])
        if fields is None or len(fields) != 3 or fields[0] not in {b.value for b in Behaviour}:
            return None
        return Behaviour(fields[0]), int(fields[1][4:]), int(fields[1][:4])

    def charge(self, token: str, amount_minor: int, currency: str, idempotency_key: str) -> ChargeAttempt:
        """Charge a tokenised card once per idempotency key; declines and errors are attempts too."""
        attrs = {"payment.amount_minor": amount_minor, "payment.currency": currency,
                 "payment.idempotency_key": idempotency_key}
        with external_call(PEER, "charge", refusals=(GatewayError,), **attrs) as span:
            attempt = self._charge(token, amount_minor, currency, idempotency_key)
            span.set_attribute("payment.status", attempt.status)
            if attempt.status == "error":  # a decline is an answer; a processing error is a failure
                mark_error(span, f"processing error ({attempt.decline_code})")
            return attempt

    def _charge(self, token: str, amount_minor: int, currency: str, idempotency_key: str) -> ChargeAttempt:
        if amount_minor <= 0:
            raise GatewayError("invalid_amount", "amount must be positive")
        with self._lock, self._ledger.transaction() as db:
            self.charge_requests[idempotency_key] += 1
            if (seen := self._ledger.charge(db, idempotency_key)) is not None:
                seen_token, attempt = seen
                if (seen_token, attempt.amount_minor, attempt.currency) != (token, amount_minor, currency):
                    raise IdempotencyMismatch("idempotency_mismatch",
                                              "this idempotency key was used for a different charge")
                return attempt
            attempt = self._decide(token, amount_minor, currency, idempotency_key)
            if attempt.status != "error":
                db.execute("INSERT INTO charge VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (idempotency_key, token, attempt.status, attempt.amount_minor, attempt.currency,
                            attempt.reference, attempt.decline_code))
            return attempt

    def lookup(self, idempotency_key: str) -> ChargeAttempt | None:
        """What happened to the charge under a key: its approval or decline, or None if none was made."""
        with external_call(PEER, "lookup", refusals=(GatewayError,), **{"payment.idempotency_key": idempotency_key}):
            with self._lock, self._ledger.transaction() as db:
                seen = self._ledger.charge(db, idempotency_key)
            return None if seen is None else seen[1]

    def _decide(self, token: str, amount_minor: int, currency: str, key: str) -> ChargeAttempt:
        card = self._card(token)
        if card is None:
            status, code = "declined", "invalid_token"
        elif card_expired(card[1], card[2], clock.now()):
            status, code = "declined", "expired_card"
        else:
            code = DECLINE_CODES[card[0]]
            status = "error" if card[0] is Behaviour.PROCESSING_ERROR else "declined" if code else "approved"
        if status == "error":
            return ChargeAttempt("error", amount_minor, currency, key, decline_code=code)
        reference = CHARGE_PREFIX + self._seal("ch", [status, str(amount_minor), currency,
                                                       self._derived("ch", key)])
        return ChargeAttempt(status, amount_minor, currency, key, reference=reference, decline_code=code)

    def refund(self, gateway_reference: str, amount_minor: int, idempotency_key: str) -> RefundAttempt:
        """Refund part or all of an approved charge, once per idempotency key."""
        attrs = {"payment.amount_minor": amount_minor, "payment.idempotency_key": idempotency_key}
        with external_call(PEER, "refund", refusals=(GatewayError,), **attrs) as span:
            attempt = self._refund(gateway_reference, amount_minor, idempotency_key)
            span.set_attribute("payment.status", attempt.status)
            return attempt

    def _refund(self, gateway_reference: str, amount_minor: int, idempotency_key: str) -> RefundAttempt:
        if amount_minor <= 0:
            raise GatewayError("invalid_amount", "amount must be positive")
        with self._lock, self._ledger.transaction() as db:
            self.refund_requests[idempotency_key] += 1
            if (seen := self._ledger.refund(db, idempotency_key)) is not None:
                if (seen.charge_reference, seen.amount_minor) != (gateway_reference, amount_minor):
                    raise IdempotencyMismatch("idempotency_mismatch",
                                              "this idempotency key was used for a different refund")
                return seen
            attempt = self._decide_refund(gateway_reference, amount_minor, idempotency_key,
                                          self._ledger.refunded(db, gateway_reference))
            db.execute("INSERT INTO refund VALUES (?, ?, ?, ?, ?, ?)",
                       (idempotency_key, attempt.status, attempt.amount_minor, attempt.charge_reference,
                        attempt.reference, attempt.decline_code))
            return attempt

    def _decide_refund(self, reference: str, amount_minor: int, key: str, refunded: int) -> RefundAttempt:
        fields = self._open("ch", reference[len(CHARGE_PREFIX):]) if reference.startswith(CHARGE_PREFIX) else None
        code = None
        if fields is None or len(fields) != 4:
            code = "unknown_charge"
        elif fields[0] != "approved":
            code = "charge_not_refundable"
        elif refunded + amount_minor > int(fields[1]):
            code = "amount_exceeds_charge"
        if code:
            return RefundAttempt("declined", amount_minor, key, reference, decline_code=code)
        return RefundAttempt("approved", amount_minor, key, reference,
                             reference=REFUND_PREFIX + self._derived("re", key))


_gateway: PaymentGateway | None = None


def get_gateway() -> PaymentGateway:
    """The process-wide simulated gateway, its books in the stack's home (shared by the API and the worker)."""
    global _gateway
    if _gateway is None:
        _gateway = PaymentGateway(ledger=get_settings().home / "payment-gateway.sqlite")
    return _gateway
