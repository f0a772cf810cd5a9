"""The agent's own cost per tool call, beside the bare HTTP call it makes, measured in the same run.

    .venv/bin/python bench/agent_overhead.py [--turns 30] [--calls 10]

Each turn is `agent.runtime.run_turn` with a scripted model (no network, no LLM) that makes `--calls`
read calls (`catalog.show` of the sellable offerings, then `customer.list`) and answers. A timing
client records how long each API call takes inside the turn; the agent's overhead of a tool call is
the time from the previous call's end to this call's end minus the API call itself (the model step,
LangGraph, the middleware, the guards, the rails, the events). The first call of a turn also carries
the turn's set-up, reported apart with the final answer step. The floor: the same operations called
through the same client with no agent, in the same run. Target (issue #15): overhead p50 ≤ 15 ms,
p99 ≤ 40 ms.

The API is the one the settings name (a `bss up` stack); when none answers, a private stack is
started with `bss up` under a temporary home (as the end-to-end tests do) and stopped afterwards.
Prints the numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class TimedClient:
    """A `BssClient` that notes how long each request took."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.durations: list[float] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.client.request(method, path, **kwargs)
        finally:
            self.durations.append(time.perf_counter() - started)

    def close(self) -> None:
        self.client.close()


def pct(samples: list[float], q: float) -> float:
    """The q-quantile (nearest rank) in ms."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def line(name: str, samples: list[float]) -> str:
    return (f"{name:46} {len(samples):6} {pct(samples, 0.5):8.2f} {pct(samples, 0.9):8.2f} {pct(samples, 0.99):8.2f}"
            f" {max(samples) * 1000:8.2f}")


def measure(turns: int, calls: int, stored: bool) -> None:
    """Run the bench against the API of the settings."""
    from agent.sessions import MemoryStore, store, use_store

    if not stored:
        use_store(MemoryStore())
    from agent.events import EventKind
    from agent.rails import Rails
    from agent.runtime import run_turn
    from agent.scripted import ScriptedModel
    from core.api_client import BssClient
    from operations.registry import load_all

    registry = load_all()
    client = TimedClient(BssClient(surface="agent", actor="bench"))
    offerings = [o["id"] for o in registry["catalog.list"](client, {})][:8]
    steps = [("catalog.show", {"offering_id": o}) for o in offerings]
    steps += [("customer.list", {"limit": n}) for n in range(1, calls - len(steps) + 1)]
    steps = steps[:calls]

    # The floor: the same operations through the same client, no agent.
    floor: list[float] = []
    for _ in range(turns):
        for name, args in steps:
            started = time.perf_counter()
            registry[name](client, args)
            floor.append(time.perf_counter() - started)

    per_call: list[float] = []
    setup: list[float] = []
    final: list[float] = []
    walls: list[float] = []
    for n in range(turns + 3):
        client.durations.clear()
        marks: list[float] = []

        def on_event(event: Any, marks: list[float] = marks) -> None:
            if event.kind in (EventKind.TOOL_END, EventKind.FINAL):
                marks.append(time.perf_counter())

        model = ScriptedModel([*({"tool": name, "args": args} for name, args in steps), {"say": "done"}])
        started = time.perf_counter()
        result = run_turn("bench", model=model, client=client, rails=Rails(), on_event=on_event)
        ended = time.perf_counter()
        assert len(result.tool_calls) == calls and not result.stopped, result.stopped
        if n < 3:  # warm-up: first imports, the profile's tools, pydantic's validators
            continue
        http = client.durations
        walls.append(ended - started)
        setup.append(marks[0] - started - http[0])
        per_call += [marks[i] - marks[i - 1] - http[i] for i in range(1, calls)]
        final.append(ended - marks[calls - 1])

    print(f"{turns} turns of {calls} tool calls each, scripted model, sessions in {type(store()).__name__}")
    print(f"{'ms':46} {'n':>6} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}")
    print(line("HTTP floor: the operation's call, no agent", floor))
    print(line("agent overhead per tool call (calls 2..n)", per_call))
    print(line("turn set-up + first call's overhead", setup))
    print(line("final answer step to the turn's end", final))
    print(line("whole turn (wall)", walls))
    floor_turn = statistics.median(sum(floor[i:i + calls]) for i in range(0, len(floor), calls))
    print(f"whole turn minus the floor's API time, per tool call: p50 "
          f"{(statistics.median(walls) - floor_turn) / calls * 1000:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--here", action="store_true", help="measure against the settings' API, start no stack")
    parser.add_argument("--stored", action="store_true",
                        help="keep sessions in the process's store (PostgreSQL when agent.session_store exists)")
    args = parser.parse_args()
    if args.here:
        measure(args.turns, args.calls, args.stored)
        return
    import httpx

    from core.settings import get_settings

    try:
        httpx.get(f"{get_settings().api_base_url}/health", timeout=2)
        reachable = True
    except httpx.HTTPError:
        reachable = False
    if reachable:
        measure(args.turns, args.calls, args.stored)
        return
    from tests.support.stack import running_stack

    with tempfile.TemporaryDirectory(prefix="bss-agent-bench-") as base, running_stack(Path(base)) as stack:
        subprocess.run([sys.executable, __file__, "--here", "--turns", str(args.turns), "--calls", str(args.calls),
                        *(["--stored"] if args.stored else [])], env=stack.env, check=True)


if __name__ == "__main__":
    main()
