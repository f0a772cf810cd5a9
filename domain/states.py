"""State machines: one transition table per aggregate, one way to apply it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from core.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class StateMachine(Generic[S]):
    """A named transition table: (state, event) -> next state."""

    aggregate: str
    table: Mapping[tuple[S, str], S]

    def next(self, current: S, event: str) -> S:
        """Return the state after `event`, or raise `InvalidTransition` naming both."""
        try:
            return self.table[(current, event)]
        except KeyError:
            raise InvalidTransition(self.aggregate, str(current), event) from None

    def allows(self, current: S, event: str) -> bool:
        """True when `event` is legal from `current`."""
        return (current, event) in self.table

    def moves(self, event: str) -> dict[S, S]:
        """Every state `event` is legal from, with where it leads (for one conditional UPDATE)."""
        return {state: target for (state, ev), target in self.table.items() if ev == event}

    def events_from(self, current: S) -> list[str]:
        """List the events legal from `current`, sorted."""
        return sorted(event for (state, event) in self.table if state == current)
