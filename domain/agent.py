"""Agent schema: the LLM agent's conversations — sessions, their messages and their tool calls.

A transcript is append-only: `message` and `tool_call` rows are only ever inserted (a trigger of the
migration refuses UPDATE and DELETE), each at the next position (`seq`) of its session, so messages and
tool calls interleave in the order they happened. The session row keeps the next free position.
A `turn` row closes each turn with what it cost (tokens, USD), why it stopped, and its trace.
Requests and cost of a customer are counted from these rows (the agent's per-customer caps): a
request is a user message, the cost is the sum of its turns. The session's `pending` is the proposal
waiting for a confirm (the one mutable part: it is not transcript).
"""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from domain.metadata import metadata

PROFILES = ("operator", "customer")
ROLES = ("user", "assistant", "system")
# A session id is chosen by the server (`SES-000001`) or by the agent runtime: short, printable, no spaces.
SESSION_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"

session = Table(
    "session", metadata,
    Column("id", Text, primary_key=True),
    Column("profile", Text, nullable=False),
    Column("customer_id", Text),  # the bound customer (customer profile) or the operator's focus
    Column("actor", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("next_seq", Integer, nullable=False, server_default="1"),
    Column("pending", JSONB),
    CheckConstraint("profile IN ('operator', 'customer')", name="profile_valid"),
    CheckConstraint("profile = 'operator' OR customer_id IS NOT NULL", name="customer_bound"),
    Index("ix_session_customer_id_created_at", "customer_id", "created_at"),
    Index("ix_session_created_at", "created_at"),
    schema="agent",
)

message = Table(
    "message", metadata,
    Column("session_id", Text, ForeignKey("agent.session.id", name="fk_message_session_id_session"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("role", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("session_id", "seq", name="pk_message"),
    CheckConstraint("role IN ('user', 'assistant', 'system')", name="role_valid"),
    schema="agent",
)

tool_call = Table(
    "tool_call", metadata,
    Column("session_id", Text, ForeignKey("agent.session.id", name="fk_tool_call_session_id_session"),
           nullable=False),
    Column("seq", Integer, nullable=False),
    Column("call_id", Text),  # the model's id of the call, so a resumed history pairs it with its result
    Column("operation", Text, nullable=False),
    Column("args", JSONB, nullable=False, server_default="{}"),
    Column("result", JSONB),
    Column("error", JSONB),
    Column("trace_id", Text),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("session_id", "seq", name="pk_tool_call"),
    schema="agent",
)

turn = Table(
    "turn", metadata,
    Column("session_id", Text, ForeignKey("agent.session.id", name="fk_turn_session_id_session"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("tokens", BigInteger, nullable=False, server_default="0"),
    Column("cost_usd", Numeric(14, 6), nullable=False, server_default="0"),
    Column("stopped", Text),
    Column("escalated", Text),
    Column("trace_id", Text),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("session_id", "seq", name="pk_turn"),
    CheckConstraint("tokens >= 0 AND cost_usd >= 0", name="usage_non_negative"),
    schema="agent",
)
