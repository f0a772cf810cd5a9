"""Portal schema: the portals' login codes, server-side sessions and the CSR console's operator accounts.

Secrets are never stored: a session's token, a code and a magic link are kept as SHA-256 digests
(they are long random values or short-lived single-use codes, so a slow hash buys nothing); an
operator's password is an argon2id hash. `login_attempt` counts what the rate limits count (code
mails per address and client, failed logins per client and username) over a sliding window.
"""

import hashlib
import secrets
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from domain.metadata import metadata

CODE_DIGITS = 6
MAX_DATA_BYTES = 8 * 1024  # a portal session's `data` (a wizard's answers), as JSON


class SessionKind(StrEnum):
    """Who a portal session is for."""

    CUSTOMER = "customer"   # a customer logged in by code or magic link
    VISITOR = "visitor"     # an email proven by a signup code, before its customer exists
    OPERATOR = "operator"   # care staff logged into the CSR console


class CodePurpose(StrEnum):
    """What a mailed code is for."""

    LOGIN = "login"
    SIGNUP = "signup"
    STEP_UP = "step_up"
    EMAIL_CHANGE = "email_change"  # proves a customer's new address before it replaces the old one


class OperatorRole(StrEnum):
    """The CSR console's roles (the care staff roles of `crm.agent`)."""

    CSR = "csr"
    SUPERVISOR = "supervisor"
    ENGINEER = "engineer"


def digest(secret: str) -> str:
    """The stored form of a token, code or link: hex SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token() -> str:
    """A session token or magic-link secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_code() -> str:
    """A 6-digit one-time code, uniformly drawn."""
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def normal_email(email: str) -> str:
    """The case-insensitive key of an email address."""
    return email.strip().lower()


login_code = Table(
    "login_code", metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("purpose", Text, nullable=False),
    Column("email", Text, nullable=False),            # normalised
    Column("code_digest", Text, nullable=False),
    Column("link_digest", Text),                      # the magic link's secret (login codes only)
    Column("session_digest", Text),                   # the session a step-up code belongs to
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("failed_attempts", Integer, nullable=False, server_default="0"),
    CheckConstraint("purpose IN ('login', 'signup', 'step_up', 'email_change')", name="purpose_known"),
    CheckConstraint("purpose NOT IN ('step_up', 'email_change') OR session_digest IS NOT NULL",
                    name="step_up_has_session"),
    Index("ix_login_code_email_purpose_created_at", "email", "purpose", "created_at"),
    Index("ix_login_code_link_digest", "link_digest", unique=True, postgresql_where="link_digest IS NOT NULL"),
    schema="portal",
)

session = Table(
    "session", metadata,
    Column("token_digest", Text, primary_key=True),
    Column("surface", Text, nullable=False),          # the portal that opened it; only it may read it
    Column("kind", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("customer_id", Text),
    Column("operator", Text, ForeignKey("portal.operator.username", name="fk_session_operator_operator")),
    Column("csrf", Text, nullable=False),
    Column("data", JSONB, nullable=False, server_default="{}"),
    Column("client_address", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("step_up_until", DateTime(timezone=True)),
    CheckConstraint("kind IN ('customer', 'visitor', 'operator')", name="kind_known"),
    CheckConstraint("(kind = 'customer') = (customer_id IS NOT NULL)", name="customer_bound"),
    CheckConstraint("(kind = 'operator') = (operator IS NOT NULL)", name="operator_bound"),
    Index("ix_session_expires_at", "expires_at"),
    schema="portal",
)

operator = Table(
    "operator", metadata,
    Column("username", Text, primary_key=True),
    Column("agent_id", Text, ForeignKey("crm.agent.id", name="fk_operator_agent_id_agent"), nullable=False,
           unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True)),
    CheckConstraint("username ~ '^[a-z][a-z0-9._-]{1,31}$'", name="username_valid"),
    schema="portal",
)

login_attempt = Table(
    "login_attempt", metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("key", Text, nullable=False),              # `email:…`, `client:…`, `user:…` + what was counted
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_login_attempt_key_at", "key", "at"),
    schema="portal",
)
