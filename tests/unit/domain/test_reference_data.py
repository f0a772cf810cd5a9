"""SPEC §3 reference data as constants, and the state machines of the reference domains (SPEC §2)."""

import re
from collections import Counter

import pytest

from core.errors import InvalidTransition
from domain import reference_data as ref
from domain.catalog import (
    OFFERING_MACHINE,
    AllowanceType,
    LifecycleStatus,
    OfferingKind,
    PriceType,
    VasExpiry,
)
from domain.crm import AgentRole, TicketPriority, TicketType
from domain.inventory import ESIM_MACHINE, MSISDN_MACHINE, EsimState, MsisdnState, activation_code
from domain.provisioning import TASK_MACHINE, FaultMode, TaskState, TaskType

DATA, VOICE, SMS, ROAMING = (AllowanceType.DATA, AllowanceType.VOICE, AllowanceType.SMS,
                             AllowanceType.DATA_ROAMING)


def _quantities(offering_id: str) -> dict[AllowanceType, int]:
    return {a.allowance_type: a.quantity for a in ref.OFFERINGS_BY_ID[offering_id].allowances}


@pytest.mark.parametrize("offering_id, price_minor, data_mb, voice_s, sms, roaming_mb", [
    ("PLAN_S", 1000, 5 * 1024, 100 * 60, 100, 0),
    ("PLAN_M", 2500, 30 * 1024, -1, -1, 500),
    ("PLAN_L", 4500, 150 * 1024, -1, -1, 2 * 1024),
])
def test_plans_match_spec_in_base_units(offering_id, price_minor, data_mb, voice_s, sms, roaming_mb):
    plan = ref.OFFERINGS_BY_ID[offering_id]
    assert (plan.kind, plan.price_minor, plan.price_type) == (OfferingKind.PLAN, price_minor, PriceType.RECURRING)
    assert _quantities(offering_id) == {DATA: data_mb, VOICE: voice_s, SMS: sms, ROAMING: roaming_mb}
    assert plan.vas_expiry is None and not plan.restores_data


@pytest.mark.parametrize("offering_id, price_minor, adds, quantity, expiry, duration_s, restores_data", [
    ("VAS_DATA_1GB", 300, DATA, 1024, VasExpiry.END_OF_PERIOD, None, True),
    ("VAS_DATA_5GB", 1200, DATA, 5 * 1024, VasExpiry.END_OF_PERIOD, None, True),
    ("VAS_UNLIMITED_DAY", 500, DATA, -1, VasExpiry.DURATION, 24 * 3600, True),
    ("VAS_ROAMING_1GB", 800, ROAMING, 1024, VasExpiry.END_OF_PERIOD, None, False),
])
def test_vas_match_spec(offering_id, price_minor, adds, quantity, expiry, duration_s, restores_data):
    vas = ref.OFFERINGS_BY_ID[offering_id]
    assert (vas.kind, vas.price_minor, vas.price_type) == (OfferingKind.VAS, price_minor, PriceType.ONE_TIME)
    assert _quantities(offering_id) == {adds: quantity}
    assert (vas.vas_expiry, vas.vas_duration_seconds, vas.restores_data) == (expiry, duration_s, restores_data)


def test_catalog_has_three_plans_and_four_vas_with_units_per_type():
    assert [o.id for o in ref.PLANS] == ["PLAN_S", "PLAN_M", "PLAN_L"]
    assert len(ref.VAS) == 4 and len(ref.OFFERINGS_BY_ID) == 7
    units = {a.allowance_type: a.unit for o in ref.OFFERINGS for a in o.allowances}
    assert units == {DATA: "MB", VOICE: "s", SMS: "sms", ROAMING: "MB"}
    assert ref.CURRENCY == "SGD" and ref.PERIOD_DAYS == 30
    assert ref.REFERENCE_EPOCH.isoformat() == "2026-01-01T00:00:00+00:00"


def test_msisdn_pool_is_90000000_to_90000999():
    numbers = ref.msisdns()
    assert (len(numbers), len(set(numbers)), numbers[0], numbers[-1]) == (1000, 1000, "90000000", "90000999")


def test_esim_pool_formats_are_valid_and_unique():
    profiles = list(ref.esim_profiles())
    assert len(profiles) == 1000
    for field in ("iccid", "imsi", "matching_id", "ki_ref"):
        assert len({getattr(p, field) for p in profiles}) == 1000, f"{field} repeats"
    for p in profiles:
        assert re.fullmatch(r"8910101\d{12}", p.iccid), p.iccid
        assert ref.luhn_check_digit(p.iccid[:-1]) == p.iccid[-1]
        assert re.fullmatch(r"525010000\d{6}", p.imsi), p.imsi
        assert re.fullmatch(r"[A-Z2-7]{5}(-[A-Z2-7]{5}){3}", p.matching_id), p.matching_id
        assert p.ki_ref == f"hsm://bss-cli/ki/{p.iccid}"
    assert [p.matching_id for p in ref.esim_profiles()] == [p.matching_id for p in profiles]  # deterministic


def test_luhn_check_digit_on_known_numbers():
    assert ref.luhn_check_digit("7992739871") == "3"
    assert ref.luhn_check_digit("424242424242424") == "2"


def test_activation_code_is_an_lpa_string():
    assert activation_code(ref.SMDP_HOST, "AB-CD") == "LPA:1$smdp.bss-cli.local$AB-CD"


def test_agents_cover_every_role_with_unique_ids_and_emails():
    assert set(Counter(a.role for a in ref.AGENTS)) == set(AgentRole)
    assert len({a.id for a in ref.AGENTS}) == len({a.email for a in ref.AGENTS}) == len(ref.AGENTS)


def test_ticket_sla_covers_every_type_and_priority_and_tightens_with_priority():
    slas = {(s.ticket_type, s.priority): s for s in ref.TICKET_SLAS}
    assert len(slas) == len(ref.TICKET_SLAS) == len(TicketType) * len(TicketPriority)
    for ticket_type in TicketType:
        row = [slas[(ticket_type, p)] for p in TicketPriority]  # critical first
        assert all(0 < s.response_minutes <= s.resolution_minutes for s in row)
        assert [s.response_minutes for s in row] == sorted(s.response_minutes for s in row)
        assert [s.resolution_minutes for s in row] == sorted(s.resolution_minutes for s in row)


def test_fault_rules_exist_for_every_task_and_mode_and_are_disabled():
    assert {(r.task_type, r.mode) for r in ref.FAULT_RULES} == {(t, m) for t in TaskType for m in FaultMode}
    assert len(ref.FAULT_RULES) == len({r.id for r in ref.FAULT_RULES}) == 40  # 10 task types × 4 modes
    assert not any(r.enabled for r in ref.FAULT_RULES)
    assert all((r.slow_ms is not None) == (r.mode is FaultMode.SLOW) for r in ref.FAULT_RULES)


def test_simulator_latency_defaults_per_network_element():
    latency = ref.SIMULATOR_LATENCY_MS
    assert set(latency) == set(TaskType)
    assert (latency[TaskType.HLR_PROVISION], latency[TaskType.HLR_DEPROVISION]) == (200, 200)
    assert {latency[t] for t in TaskType if t.startswith("PCRF_")} == {300}
    assert latency[TaskType.OCS_BALANCE_INIT] == 400
    assert (latency[TaskType.ESIM_PROFILE_PREPARE], latency[TaskType.ESIM_PROFILE_DISABLE]) == (500, 500)


def _walk(machine, state, *events):
    for event in events:
        state = machine.next(state, event)
    return state


def test_msisdn_lifecycle_round_trip_and_ported_out_is_terminal():
    assert _walk(MSISDN_MACHINE, MsisdnState.AVAILABLE, "reserve", "assign", "quarantine", "recycle") == \
        MsisdnState.AVAILABLE
    assert _walk(MSISDN_MACHINE, MsisdnState.AVAILABLE, "reserve", "release") == MsisdnState.AVAILABLE
    assert _walk(MSISDN_MACHINE, MsisdnState.ASSIGNED, "port_out") == MsisdnState.PORTED_OUT
    assert MSISDN_MACHINE.events_from(MsisdnState.PORTED_OUT) == []


@pytest.mark.parametrize("state, event", [
    (MsisdnState.PORTED_OUT, "recycle"), (MsisdnState.PORTED_OUT, "reserve"),
    (MsisdnState.AVAILABLE, "assign"), (MsisdnState.QUARANTINE, "reserve"), (MsisdnState.ASSIGNED, "release"),
])
def test_msisdn_refuses_transitions_outside_spec(state, event):
    with pytest.raises(InvalidTransition) as refused:
        MSISDN_MACHINE.next(state, event)
    assert refused.value.code == "msisdn.transition.invalid"
    assert refused.value.context == {"aggregate": "msisdn", "from": state.value, "event": event}


def test_esim_lifecycle_and_recycled_is_terminal():
    assert _walk(ESIM_MACHINE, EsimState.AVAILABLE, "reserve", "download", "activate", "suspend", "resume",
                 "suspend", "recycle") == EsimState.RECYCLED
    assert _walk(ESIM_MACHINE, EsimState.AVAILABLE, "reserve", "release") == EsimState.AVAILABLE
    assert ESIM_MACHINE.events_from(EsimState.RECYCLED) == []


@pytest.mark.parametrize("state, event", [
    (EsimState.AVAILABLE, "activate"), (EsimState.DOWNLOADED, "release"), (EsimState.RECYCLED, "release"),
    (EsimState.AVAILABLE, "recycle"), (EsimState.ACTIVATED, "download"),
])
def test_esim_refuses_transitions_outside_spec(state, event):
    with pytest.raises(InvalidTransition):
        ESIM_MACHINE.next(state, event)


def test_provisioning_task_retry_and_resolve_but_completed_is_final():
    assert _walk(TASK_MACHINE, TaskState.PENDING, "start", "fail", "retry", "stick", "resolve", "complete") == \
        TaskState.COMPLETED
    assert TASK_MACHINE.events_from(TaskState.COMPLETED) == []
    assert not TASK_MACHINE.allows(TaskState.PENDING, "complete")
    assert not TASK_MACHINE.allows(TaskState.STUCK, "retry")


def test_offering_lifecycle():
    assert _walk(OFFERING_MACHINE, LifecycleStatus.IN_DESIGN, "launch", "retire") == LifecycleStatus.RETIRED
    assert not OFFERING_MACHINE.allows(LifecycleStatus.RETIRED, "launch")
