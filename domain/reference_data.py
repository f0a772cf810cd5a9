"""The reference data of SPEC §3 as typed constants: catalog, number and eSIM pools, agents, SLAs, simulator.

Money is in minor units (`price_minor`), quantities in base units (MB with 1 GB = 1024 MB, voice in
seconds, SMS as a count, -1 = unlimited). Everything here is a pure function of the constants, so
`bss seed` writes the same rows on every machine and every run.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from domain.catalog import ALLOWANCE_UNITS, UNLIMITED, AllowanceType, OfferingKind, PriceType, VasExpiry
from domain.crm import AgentRole, TicketPriority, TicketType
from domain.inventory import SMDP_HOST
from domain.provisioning import TASK_ELEMENT, FaultMode, NetworkElement, TaskType, fault_rule_id

CURRENCY = "SGD"  # prices are tax-inclusive
PERIOD_DAYS = 30
# Seeded prices and offerings are valid from a fixed instant, not "now", so a seed is deterministic.
REFERENCE_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

MB = 1
GB = 1024 * MB
MINUTE = 60  # seconds
HOUR = 60 * MINUTE


@dataclass(frozen=True)
class Allowance:
    """An amount of one allowance type, in that type's base unit."""

    allowance_type: AllowanceType
    quantity: int

    @property
    def unit(self) -> str:
        """The base unit the quantity is counted in (`MB`, `s`, `sms`)."""
        return ALLOWANCE_UNITS[self.allowance_type]

    @property
    def unlimited(self) -> bool:
        """True when the allowance has no cap."""
        return self.quantity == UNLIMITED


@dataclass(frozen=True)
class Offering:
    """A sellable plan or VAS with its launch price and what it grants."""

    id: str
    name: str
    description: str
    kind: OfferingKind
    specification_id: str
    category_id: str
    price_minor: int
    allowances: tuple[Allowance, ...]
    vas_expiry: VasExpiry | None = None
    vas_duration_seconds: int | None = None
    restores_data: bool = False

    @property
    def price_type(self) -> PriceType:
        """Plans recur every period; a VAS is charged once."""
        return PriceType.RECURRING if self.kind is OfferingKind.PLAN else PriceType.ONE_TIME

    @property
    def price_id(self) -> str:
        """The id of the launch price version, e.g. `POP_PLAN_M_1`."""
        return f"POP_{self.id}_1"

    def allowance(self, allowance_type: AllowanceType) -> Allowance | None:
        """Return the allowance of `allowance_type`, if the offering grants one."""
        return next((a for a in self.allowances if a.allowance_type == allowance_type), None)


@dataclass(frozen=True)
class Named:
    """An id with a name and description (catalog, category, product specification)."""

    id: str
    name: str
    description: str


@dataclass(frozen=True)
class Agent:
    """A member of staff (or the automation) who works cases and tickets."""

    id: str
    name: str
    role: AgentRole
    email: str


@dataclass(frozen=True)
class TicketSla:
    """Response and resolution deadlines for one ticket type × priority."""

    ticket_type: TicketType
    priority: TicketPriority
    response_minutes: int
    resolution_minutes: int


@dataclass(frozen=True)
class FaultRule:
    """A fault the network simulator can inject; seeded disabled."""

    id: str
    task_type: TaskType
    mode: FaultMode
    probability_pct: int
    slow_ms: int | None
    enabled: bool = False


# --- catalog -------------------------------------------------------------------------------------

CATALOG = Named("PREPAID", "BSS Prepaid Catalog", "Bundled prepaid mobile plans and add-ons.")
CATEGORIES = (
    Named("PLANS", "Plans", "Bundled prepaid plans renewed every 30 days."),
    Named("VAS", "Value-added services", "One-time add-ons bought on top of a plan."),
)
SPECIFICATIONS = (
    Named("SPEC_MOBILE_BUNDLE", "Prepaid mobile bundle",
          "A mobile line with data, voice, SMS and roaming data allowances per period."),
    Named("SPEC_ALLOWANCE_ADDON", "Allowance add-on", "Extra allowance added to an existing line."),
)


def _plan(id_: str, name: str, price_minor: int, data: int, voice: int, sms: int, roaming: int,
          description: str) -> Offering:
    return Offering(
        id_, name, description, OfferingKind.PLAN, "SPEC_MOBILE_BUNDLE", "PLANS", price_minor,
        (Allowance(AllowanceType.DATA, data), Allowance(AllowanceType.VOICE, voice),
         Allowance(AllowanceType.SMS, sms), Allowance(AllowanceType.DATA_ROAMING, roaming)),
    )


def _vas(id_: str, name: str, price_minor: int, adds: Allowance, description: str,
         duration_seconds: int | None = None) -> Offering:
    return Offering(
        id_, name, description, OfferingKind.VAS, "SPEC_ALLOWANCE_ADDON", "VAS", price_minor, (adds,),
        vas_expiry=VasExpiry.DURATION if duration_seconds else VasExpiry.END_OF_PERIOD,
        vas_duration_seconds=duration_seconds,
        # Only data lifts a block on exhaustion; roaming data does not (SPEC §2).
        restores_data=adds.allowance_type is AllowanceType.DATA,
    )


PLANS = (
    _plan("PLAN_S", "Lite", 1000, 5 * GB, 100 * MINUTE, 100, 0,
          "5 GB data, 100 minutes and 100 SMS every 30 days."),
    _plan("PLAN_M", "Standard", 2500, 30 * GB, UNLIMITED, UNLIMITED, 500 * MB,
          "30 GB data, unlimited calls and SMS, 500 MB roaming data every 30 days."),
    _plan("PLAN_L", "Max", 4500, 150 * GB, UNLIMITED, UNLIMITED, 2 * GB,
          "150 GB data, unlimited calls and SMS, 2 GB roaming data every 30 days."),
)

VAS = (
    _vas("VAS_DATA_1GB", "Data Top-Up 1GB", 300, Allowance(AllowanceType.DATA, 1 * GB),
         "1 GB extra data until the end of the current period."),
    _vas("VAS_DATA_5GB", "Data Top-Up 5GB", 1200, Allowance(AllowanceType.DATA, 5 * GB),
         "5 GB extra data until the end of the current period."),
    _vas("VAS_UNLIMITED_DAY", "Unlimited Data Day Pass", 500, Allowance(AllowanceType.DATA, UNLIMITED),
         "Unlimited data for 24 hours from purchase.", duration_seconds=24 * HOUR),
    _vas("VAS_ROAMING_1GB", "Roaming Data 1GB", 800, Allowance(AllowanceType.DATA_ROAMING, 1 * GB),
         "1 GB roaming data until the end of the current period."),
)

OFFERINGS = PLANS + VAS
OFFERINGS_BY_ID = {o.id: o for o in OFFERINGS}

# --- inventory -----------------------------------------------------------------------------------

MSISDN_FIRST = 90000000
MSISDN_COUNT = 1000
MSISDN_RANGE_ID = f"MR-{MSISDN_FIRST}-{MSISDN_FIRST + MSISDN_COUNT - 1}"

ESIM_COUNT = 1000
ICCID_PREFIX = "8910101"   # 89 telecom, 10 country, 1 issuer, then 11 serial digits + a Luhn check digit
IMSI_PREFIX = "525010000"  # MCC 525 (Singapore), MNC 01, then 6 subscriber digits


def msisdns() -> list[str]:
    """Return the seeded number pool, 90000000–90000999."""
    return [str(MSISDN_FIRST + i) for i in range(MSISDN_COUNT)]


def luhn_check_digit(digits: str) -> str:
    """Return the Luhn check digit that makes `digits + check` valid (ICCIDs end with one)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def iccid(serial: int) -> str:
    """Return the 19-digit ICCID of profile `serial`: prefix, 11 serial digits, Luhn digit."""
    body = f"{ICCID_PREFIX}{serial:011d}"
    return body + luhn_check_digit(body)


def imsi(serial: int) -> str:
    """Return the 15-digit IMSI of profile `serial`."""
    return f"{IMSI_PREFIX}{serial:06d}"


def matching_id(iccid_: str) -> str:
    """Derive the SM-DP+ matching id from the ICCID (deterministic, unguessable-looking, 5×4 groups)."""
    digest = base64.b32encode(hashlib.sha256(f"bss-cli:matching-id:{iccid_}".encode()).digest()).decode()
    return "-".join(digest[i:i + 5] for i in range(0, 20, 5))


def ki_ref(iccid_: str) -> str:
    """Return the HSM reference under which the profile's key material is kept (never the key)."""
    return f"hsm://bss-cli/ki/{iccid_}"


@dataclass(frozen=True)
class EsimProfile:
    """One profile of the seeded eSIM pool."""

    iccid: str
    imsi: str
    matching_id: str
    ki_ref: str
    smdp_address: str = SMDP_HOST


def esim_profiles() -> Iterator[EsimProfile]:
    """Yield the seeded eSIM pool, serials 0–999."""
    for serial in range(ESIM_COUNT):
        code = iccid(serial)
        yield EsimProfile(code, imsi(serial), matching_id(code), ki_ref(code))


# --- crm -----------------------------------------------------------------------------------------

AGENTS = (
    Agent("AG-CSR-01", "Aisha Rahman", AgentRole.CSR, "aisha.rahman@bss-cli.local"),
    Agent("AG-CSR-02", "Daniel Tan", AgentRole.CSR, "daniel.tan@bss-cli.local"),
    Agent("AG-CSR-03", "Priya Nair", AgentRole.CSR, "priya.nair@bss-cli.local"),
    Agent("AG-SUP-01", "Marcus Lim", AgentRole.SUPERVISOR, "marcus.lim@bss-cli.local"),
    Agent("AG-SUP-02", "Mei Ling Goh", AgentRole.SUPERVISOR, "meiling.goh@bss-cli.local"),
    Agent("AG-ENG-01", "Ravi Kumar", AgentRole.ENGINEER, "ravi.kumar@bss-cli.local"),
    Agent("AG-ENG-02", "Siti Nurhaliza", AgentRole.ENGINEER, "siti.nurhaliza@bss-cli.local"),
    Agent("AG-SYS-01", "BSS Automation", AgentRole.SYSTEM, "automation@bss-cli.local"),
    Agent("AG-SYS-02", "BSS Assistant (LLM)", AgentRole.SYSTEM, "assistant@bss-cli.local"),
)

# (response, resolution) in minutes per priority. Provisioning blocks an activation, so it is
# tightest; billing and device issues wait on third parties; general enquiries are loosest.
_SLA_MINUTES: dict[TicketType, dict[TicketPriority, tuple[int, int]]] = {
    TicketType.PROVISIONING: {TicketPriority.CRITICAL: (15, 2 * 60), TicketPriority.HIGH: (30, 4 * 60),
                              TicketPriority.MEDIUM: (2 * 60, 12 * 60), TicketPriority.LOW: (4 * 60, 48 * 60)},
    TicketType.NETWORK: {TicketPriority.CRITICAL: (15, 4 * 60), TicketPriority.HIGH: (30, 8 * 60),
                         TicketPriority.MEDIUM: (2 * 60, 24 * 60), TicketPriority.LOW: (8 * 60, 72 * 60)},
    TicketType.BILLING: {TicketPriority.CRITICAL: (30, 8 * 60), TicketPriority.HIGH: (60, 24 * 60),
                         TicketPriority.MEDIUM: (4 * 60, 48 * 60), TicketPriority.LOW: (8 * 60, 120 * 60)},
    TicketType.DEVICE: {TicketPriority.CRITICAL: (30, 8 * 60), TicketPriority.HIGH: (60, 24 * 60),
                        TicketPriority.MEDIUM: (4 * 60, 48 * 60), TicketPriority.LOW: (8 * 60, 120 * 60)},
    TicketType.GENERAL: {TicketPriority.CRITICAL: (60, 24 * 60), TicketPriority.HIGH: (2 * 60, 48 * 60),
                         TicketPriority.MEDIUM: (8 * 60, 72 * 60), TicketPriority.LOW: (24 * 60, 168 * 60)},
}

TICKET_SLAS = tuple(TicketSla(ticket_type, priority, response, resolution)
                    for ticket_type, row in _SLA_MINUTES.items()
                    for priority, (response, resolution) in row.items())

# --- provisioning --------------------------------------------------------------------------------

ELEMENT_LATENCY_MS = {NetworkElement.HLR: 200, NetworkElement.PCRF: 300, NetworkElement.OCS: 400,
                      NetworkElement.SMDP: 500}
SIMULATOR_LATENCY_MS = {task_type: ELEMENT_LATENCY_MS[TASK_ELEMENT[task_type]] for task_type in TaskType}

SLOW_FAULT_MS = 5000  # what "slow" adds when an operator enables it without choosing a delay


# Every task type × mode exists from the start, disabled, so enabling a fault is an update.
FAULT_RULES = tuple(FaultRule(fault_rule_id(task_type, mode), task_type, mode, probability_pct=100,
                              slow_ms=SLOW_FAULT_MS if mode is FaultMode.SLOW else None)
                    for task_type in TaskType for mode in FaultMode)
