"""Inventory schema (TMF639): the MSISDN and eSIM profile pools and their state machines.

Reservations name their holder (`reserved_for`, an order id) so a failed or cancelled order can
release exactly what it took, and a retried reservation finds its own row instead of a second one
(a partial unique index allows one live number and one live profile per order). `pool_watermark`
remembers whether a pool is below its low watermark, so the alert fires once per crossing.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)

from domain.metadata import metadata
from domain.states import StateMachine

QUARANTINE_DAYS = 90  # a released number rests this long before anyone else gets it (SPEC §2)
MAX_RANGE_SIZE = 100_000  # one add-range is one transaction; bigger blocks are split by the operator
# Available units below which a pool is "low" (10 % of the SPEC §3 pools); a `pool_watermark` row
# with its own threshold overrides it per pool.
DEFAULT_LOW_WATERMARK = 100


class Pool(StrEnum):
    """The two resource pools."""

    MSISDN = "msisdn"
    ESIM = "esim"


class MsisdnState(StrEnum):
    """Lifecycle of a phone number (SPEC §2)."""

    AVAILABLE = "available"
    RESERVED = "reserved"
    ASSIGNED = "assigned"
    QUARANTINE = "quarantine"
    PORTED_OUT = "ported_out"


# `ported_out` has no way out: the number now belongs to another operator.
MSISDN_MACHINE: StateMachine[MsisdnState] = StateMachine("msisdn", {
    (MsisdnState.AVAILABLE, "reserve"): MsisdnState.RESERVED,
    (MsisdnState.RESERVED, "release"): MsisdnState.AVAILABLE,
    (MsisdnState.RESERVED, "assign"): MsisdnState.ASSIGNED,
    (MsisdnState.ASSIGNED, "quarantine"): MsisdnState.QUARANTINE,
    (MsisdnState.QUARANTINE, "recycle"): MsisdnState.AVAILABLE,
    (MsisdnState.ASSIGNED, "port_out"): MsisdnState.PORTED_OUT,
})


class EsimState(StrEnum):
    """Lifecycle of an eSIM profile (SPEC §2)."""

    AVAILABLE = "available"
    RESERVED = "reserved"
    DOWNLOADED = "downloaded"
    ACTIVATED = "activated"
    SUSPENDED = "suspended"
    RECYCLED = "recycled"


# A profile that reached a device can never be handed out again, so every state after
# `reserved` ends in `recycled` (terminal); only an untouched reservation returns to the pool.
ESIM_MACHINE: StateMachine[EsimState] = StateMachine("esim_profile", {
    (EsimState.AVAILABLE, "reserve"): EsimState.RESERVED,
    (EsimState.RESERVED, "release"): EsimState.AVAILABLE,
    (EsimState.RESERVED, "download"): EsimState.DOWNLOADED,
    (EsimState.DOWNLOADED, "activate"): EsimState.ACTIVATED,
    (EsimState.ACTIVATED, "suspend"): EsimState.SUSPENDED,
    (EsimState.SUSPENDED, "resume"): EsimState.ACTIVATED,
    (EsimState.DOWNLOADED, "recycle"): EsimState.RECYCLED,
    (EsimState.ACTIVATED, "recycle"): EsimState.RECYCLED,
    (EsimState.SUSPENDED, "recycle"): EsimState.RECYCLED,
})


# What an operator may do by hand (PATCH); reserve/assign belong to the order flow. Release is both:
# the flow's own, and an operator's for a reservation whose order is over (the activity checks which).
MSISDN_OPERATOR_EVENTS = frozenset({"quarantine", "recycle", "port_out", "release"})
ESIM_OPERATOR_EVENTS = frozenset({"suspend", "resume", "recycle", "release"})
# States in which a row still belongs to the order that reserved it (one per order, see the indexes).
MSISDN_HELD = (MsisdnState.RESERVED, MsisdnState.ASSIGNED)
ESIM_HELD = (EsimState.RESERVED, EsimState.DOWNLOADED, EsimState.ACTIVATED, EsimState.SUSPENDED)


def activation_code(smdp_address: str, matching_id: str) -> str:
    """Build the LPA activation code a device scans: `LPA:1$<smdp host>$<matching id>`."""
    return f"LPA:1${smdp_address}${matching_id}"


msisdn = Table(
    "msisdn", metadata,
    Column("number", Text, primary_key=True),
    Column("state", Text, nullable=False, server_default=MsisdnState.AVAILABLE.value),
    Column("reserved_for", Text),
    Column("reserved_at", DateTime(timezone=True)),
    Column("assigned_to", Text),
    Column("quarantine_until", DateTime(timezone=True)),
    Column("range_id", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("number ~ '^[0-9]{8,15}$'", name="number_digits"),
    CheckConstraint("state IN ('available', 'reserved', 'assigned', 'quarantine', 'ported_out')",
                    name="state_known"),
    CheckConstraint("state <> 'reserved' OR reserved_for IS NOT NULL", name="reserved_has_holder"),
    CheckConstraint("state <> 'assigned' OR assigned_to IS NOT NULL", name="assigned_has_subscription"),
    CheckConstraint("state <> 'quarantine' OR quarantine_until IS NOT NULL", name="quarantine_has_end"),
    # Serves "next available number" (state = 'available' ORDER BY number ... SKIP LOCKED).
    Index("ix_msisdn_state", "state", "number"),
    # One live number per order: a retried reservation racing its first attempt loses here
    # instead of holding a second number.
    Index("uq_msisdn_reserved_for", "reserved_for", unique=True,
          postgresql_where=text("state IN ('reserved', 'assigned')")),
    Index("ix_msisdn_assigned_to", "assigned_to", postgresql_where=text("assigned_to IS NOT NULL")),
    schema="inventory",
)

esim_profile = Table(
    "esim_profile", metadata,
    Column("iccid", Text, primary_key=True),
    Column("imsi", Text, nullable=False, unique=True),
    Column("state", Text, nullable=False, server_default=EsimState.AVAILABLE.value),
    Column("smdp_address", Text, nullable=False),
    Column("matching_id", Text, nullable=False, unique=True),
    # Where the HSM keeps Ki/OPc for this profile; the key itself never enters our database.
    Column("ki_ref", Text, nullable=False),
    Column("reserved_for", Text),
    Column("reserved_at", DateTime(timezone=True)),
    Column("assigned_msisdn", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("iccid ~ '^89[0-9]{17,18}$'", name="iccid_digits"),
    CheckConstraint("imsi ~ '^[0-9]{15}$'", name="imsi_digits"),
    CheckConstraint("state IN ('available', 'reserved', 'downloaded', 'activated', 'suspended', 'recycled')",
                    name="state_known"),
    CheckConstraint("state <> 'reserved' OR reserved_for IS NOT NULL", name="reserved_has_holder"),
    Index("ix_esim_profile_state", "state", "iccid"),
    Index("uq_esim_profile_reserved_for", "reserved_for", unique=True,
          postgresql_where=text("state IN ('reserved', 'downloaded', 'activated', 'suspended')")),
    Index("ix_esim_profile_assigned_msisdn", "assigned_msisdn", postgresql_where=text("assigned_msisdn IS NOT NULL")),
    schema="inventory",
)

# One row per block of numbers added to the pool (seed or `bss inventory msisdn add-range`);
# the unique bounds make a repeated add-range a no-op instead of a second replenishment.
msisdn_range = Table(
    "msisdn_range", metadata,
    Column("id", Text, primary_key=True),
    Column("first_number", Text, nullable=False),
    Column("last_number", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("added_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("first_number", "last_number"),
    CheckConstraint("size > 0", name="size_positive"),
    # Same width, so text order is numeric order.
    CheckConstraint("length(first_number) = length(last_number) AND first_number <= last_number",
                    name="bounds_ordered"),
    schema="inventory",
)

# One row per pool once it has crossed its watermark (or an operator set a threshold): `low` is
# flipped by a conditional UPDATE, so concurrent reservations raise the alert exactly once.
pool_watermark = Table(
    "pool_watermark", metadata,
    Column("pool", Text, primary_key=True),
    Column("threshold", Integer, nullable=False, server_default=str(DEFAULT_LOW_WATERMARK)),
    Column("low", Boolean, nullable=False, server_default=false()),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("pool IN ('msisdn', 'esim')", name="pool_known"),
    CheckConstraint("threshold >= 0", name="threshold_non_negative"),
    schema="inventory",
)


class EsimReservation(BaseModel):
    """The eSIM profile an order holds, with what a device needs to download it."""

    iccid: str
    imsi: str
    smdp_address: str
    matching_id: str
    activation_code: str


class ReleaseResult(BaseModel):
    """What `release_reservations` gave back (empty when the order held nothing)."""

    order_id: str
    msisdns: list[str] = []
    iccids: list[str] = []
    recycled_iccids: list[str] = []  # downloaded to a device already: retired, never reissued

    @property
    def released(self) -> int:
        """How many resources changed state."""
        return len(self.msisdns) + len(self.iccids) + len(self.recycled_iccids)


SMDP_HOST = "smdp.bss-cli.local"  # our SM-DP+ (the simulator's): where profiles are downloaded from


class EsimLoad(BaseModel):
    """One profile of a batch from the SM-DP+ vendor: where the HSM keeps its key, never the key."""

    iccid: str = Field(pattern=r"^89[0-9]{17,18}$")
    imsi: str = Field(pattern=r"^[0-9]{15}$")
    matching_id: str = Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    ki_ref: str = Field(min_length=1, max_length=120)
    smdp_address: str = Field(default=SMDP_HOST, min_length=3, max_length=255)


class BatchResult(BaseModel):
    """What one eSIM batch load did: profiles added, profiles already in the pool (by ICCID, IMSI or matching id)."""

    size: int
    added: int
    skipped: int


class RangeResult(BaseModel):
    """What one `add-range` did: numbers added, numbers already in the pool, or a repeat."""

    range_id: str
    first: str
    last: str
    size: int
    added: int
    skipped: int
    repeated: bool = False  # this exact range was added before; nothing was done
