"""The loop guards of one turn: steps, an identical repeated call, consecutive failures, tokens and cost.

Each guard answers None (go on) or the reason the turn stops, which names the guard and why:
`steps: …`, `repeat: …`, `failures: …`, `budget: …`. Tokens are the model's own count (its usage
metadata) when it reports one, else an estimate of four characters a token over what was sent and
received; the cost prices them with the settings' per-million-token prices.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.settings import Settings, get_settings

CHARS_PER_TOKEN = 4


def call_key(tool: str, args: dict[str, Any]) -> str:
    """A tool call's identity for the repeat guard: its name and its arguments, order-free."""
    return tool + json.dumps(args, sort_keys=True, default=str)


def estimate_tokens(chars: int) -> int:
    """Tokens for that many characters, when the model reports none."""
    return max(1, chars // CHARS_PER_TOKEN)


@dataclass
class Guards:
    """One turn's guards and what they have counted."""

    max_steps: int = 12
    max_failures: int = 3
    max_tokens: int = 200_000
    max_cost_usd: float = 0.50
    usd_per_mtok_input: float = 0.15
    usd_per_mtok_output: float = 0.60
    steps: int = 0
    failures: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    seen: set[str] = field(default_factory=set)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Guards:
        """Guards with the settings' limits and prices."""
        s = settings or get_settings()
        return cls(max_steps=s.agent_max_steps, max_failures=s.agent_max_failures,
                   max_tokens=s.agent_max_tokens_per_turn, max_cost_usd=s.agent_max_cost_per_turn_usd,
                   usd_per_mtok_input=s.llm_usd_per_mtok_input, usd_per_mtok_output=s.llm_usd_per_mtok_output)

    @property
    def tokens(self) -> int:
        """Tokens used so far this turn."""
        return self.input_tokens + self.output_tokens

    @property
    def cost_usd(self) -> float:
        """What the tokens so far cost."""
        return (self.input_tokens * self.usd_per_mtok_input + self.output_tokens * self.usd_per_mtok_output) / 1e6

    def before_model(self) -> str | None:
        """Counted before each model call: at most `max_steps` calls a turn."""
        if self.steps >= self.max_steps:
            return (f"steps: the turn reached its limit of {self.max_steps} model steps without a final answer;"
                    " ask again more narrowly")
        self.steps += 1
        return None

    def after_model(self, usage: dict[str, Any] | None, sent_chars: int, received_chars: int) -> str | None:
        """Count a model call's tokens (reported, else estimated) and hold them against the budget."""
        if usage and (usage.get("input_tokens") or usage.get("output_tokens")):
            self.input_tokens += int(usage.get("input_tokens") or 0)
            self.output_tokens += int(usage.get("output_tokens") or 0)
        else:
            self.input_tokens += estimate_tokens(sent_chars)
            self.output_tokens += estimate_tokens(received_chars)
        if self.tokens > self.max_tokens:
            return f"budget: the turn used {self.tokens:,} tokens, over its budget of {self.max_tokens:,}"
        if self.cost_usd > self.max_cost_usd:
            return f"budget: the turn cost ${self.cost_usd:.4f}, over its budget of ${self.max_cost_usd:.2f}"
        return None

    def before_tool(self, operation: str, args: dict[str, Any]) -> str | None:
        """The repeat guard: the same operation with the same arguments a second time this turn stops it."""
        key = call_key(operation, args)
        if key in self.seen:
            return (f"repeat: {operation} was called a second time with the same arguments"
                    f" {json.dumps(args, sort_keys=True, default=str)}; it would answer the same")
        self.seen.add(key)
        return None

    def after_tool(self, ok: bool, operation: str, code: str = "") -> str | None:
        """The failure guard: `max_failures` failed calls in a row stop the turn."""
        self.failures = 0 if ok else self.failures + 1
        if self.failures >= self.max_failures:
            return (f"failures: {self.failures} tool calls in a row failed (the last: {operation} → {code});"
                    " stopping rather than guessing on")
        return None
