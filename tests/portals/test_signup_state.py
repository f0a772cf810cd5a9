"""The signup wizard's pure rules: which step a skipped one sends back to, the order's progress in words."""

from __future__ import annotations

from portals.self_serve.signup_flow import (
    KEY,
    SignupState,
    card_problems,
    check_details,
    needed_before,
    pretty_number,
    progress_of,
)


def _order(state: str, step: str, reason: str | None = None, line: str | None = None) -> dict:
    product = {"productCharacteristic": [{"name": "msisdn", "value": "90000123"}], **({"id": line} if line else {})}
    notes = [{"text": f"step: {step}"}] + ([{"text": reason}] if reason else [])
    return {"id": "ORD-1", "state": state, "note": notes, "productOrderItem": [{"product": product}]}


def test_each_step_names_the_first_missing_one():
    state = SignupState()
    assert needed_before(state, "plan") is None
    assert needed_before(state, "card") == ("plan", "Choose a plan first.")
    state.plan = "PLAN_S"
    assert needed_before(state, "number") is None
    assert needed_before(state, "details") == ("number", "Choose your number first.")
    assert needed_before(state, "card")[0] == "number"
    state.msisdn = "90000123"
    assert needed_before(state, "card")[0] == "details"
    state.given, state.family, state.phone, state.document_type, state.document_number = (
        "Ada", "Tan", "+6591234567", "nric", "S1234567D")
    assert needed_before(state, "card")[0] == "details"  # details without the customer created are not done
    state.customer_id = "CUST-000001"
    assert needed_before(state, "card") is None
    assert needed_before(state, "done") == ("card", "Add the card to pay with first.")


def test_the_state_round_trips_through_session_data_and_keeps_other_keys():
    state = SignupState(plan="PLAN_M", msisdn="90000001", attempt=2, replaced_cards=["PM-000003"])
    data = state.to_data({"other": 1})
    assert data["other"] == 1 and data[KEY]["plan"] == "PLAN_M"
    assert SignupState.from_data(data) == state
    assert SignupState.from_data({KEY: {"plan": "PLAN_S", "unknown": "x"}}).plan == "PLAN_S"
    assert SignupState.from_data({KEY: "tampered"}) == SignupState()
    assert "number" not in data[KEY] and "cvv" not in data[KEY]  # no card field exists in the state at all


def test_form_checks_catch_the_obvious_and_never_echo_a_card_number():
    assert check_details("Ada", "Tan", "+65 9123 4567", "nric", "s1234567d") == {}
    assert check_details("Ada", "Tan", "91234567", "nric", "", attested=True) == {}
    assert set(check_details("Ada", "Tan", "91234567", "nric", "")) == {"document_number"}
    problems = check_details("", "Tan", "call me", "licence", "??")
    assert set(problems) == {"given", "phone", "document_type", "document_number"}
    assert card_problems("4242 4242 4242 4242", "12/30", "") == {}
    bad = card_problems("4242", "2030", "12")
    assert set(bad) == {"number", "exp", "cvv"} and all("4242" not in text for text in bad.values())


def test_progress_follows_the_workflow_steps_and_says_why_it_failed():
    running = progress_of(_order("inProgress", "PAID"))
    assert not running.finished and running.msisdn == "90000123"
    assert [s for _, _, s in running.stages()] == ["done", "done", "current", "todo", "todo", "todo"]
    stuck = progress_of(_order("inProgress", "STUCK"))
    assert stuck.stuck and [s for _, _, s in stuck.stages()][3] == "current"
    done = progress_of(_order("completed", "COMPLETED", line="SUB-000001"))
    assert done.finished and done.line_id == "SUB-000001" and {s for _, _, s in done.stages()} == {"done"}
    declined = progress_of(_order("failed", "FAILED", "payment.declined: card_declined"))
    assert declined.declined and "declined" in declined.reason_in_words() and "Nothing was charged" in (
        declined.reason_in_words())
    poor = progress_of(_order("failed", "FAILED", "payment.declined: insufficient_funds"))
    assert "not enough funds" in poor.reason_in_words()
    other = progress_of(_order("failed", "FAILED", "provisioning.failed: HLR down"))
    assert not other.declined and "refunded" in other.reason_in_words() and "HLR" not in other.reason_in_words()
    assert pretty_number("90000123") == "9000 0123" and pretty_number("6591234567") == "6591234567"
