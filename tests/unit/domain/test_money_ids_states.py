"""Value types: exact money, business ids, state machines that name both states."""

from enum import StrEnum

import pytest

from core.errors import InvalidTransition
from domain.ids import IdKind, format_id, parse_id
from domain.money import Money
from domain.states import StateMachine


def test_money_parses_major_units_exactly_and_refuses_fractions_of_a_cent():
    assert Money.from_major("25.00").amount_minor == 2500
    assert Money.from_major("0.10") + Money.from_major("0.20") == Money(30)
    with pytest.raises(ValueError):
        Money.from_major("1.005")
    with pytest.raises(TypeError):
        Money(10.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(1, "SGD") + Money(1, "USD")
    assert Money(123456).format() == "SGD 1,234.56"


def test_ids_round_trip_and_reject_other_kinds():
    assert format_id(IdKind.ORDER, 42) == "ORD-000042"
    assert parse_id(IdKind.ORDER, "ORD-000042") == 42
    with pytest.raises(ValueError):
        parse_id(IdKind.ORDER, "SUB-000042")


class Light(StrEnum):
    RED = "red"
    GREEN = "green"


MACHINE = StateMachine("light", {(Light.RED, "go"): Light.GREEN, (Light.GREEN, "stop"): Light.RED})


def test_state_machine_applies_its_table_and_names_both_sides_when_refusing():
    assert MACHINE.next(Light.RED, "go") is Light.GREEN
    assert MACHINE.events_from(Light.GREEN) == ["stop"]
    with pytest.raises(InvalidTransition) as refused:
        MACHINE.next(Light.RED, "stop")
    assert refused.value.code == "light.transition.invalid"
    assert refused.value.context == {"aggregate": "light", "from": "red", "event": "stop"}
