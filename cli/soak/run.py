"""One soak: start the private stack, sign the customers up, live the days (and chat), reconcile, stop."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from cli.soak import driver

# Hooks a caller may pass: called with the SQLAlchemy engine once the days are over, before the
# reconciliation (the tests tamper a row there to prove a gate fails).
Hook = Callable[[Any], Awaitable[None]]


@dataclass
class Options:
    """What to run."""

    customers: int
    days: int
    seed: int = 1
    chat: bool = False
    decline_share: float = 0.2
    concurrency: int = 16
    before_reconcile: Hook | None = None


@dataclass
class Outcome:
    """Everything the report shows."""

    options: Options
    customers: list[driver.Customer]
    timings: dict[str, float] = field(default_factory=dict)
    latency: dict[str, list[float]] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)
    chat: dict[str, Any] = field(default_factory=dict)
    cpu: dict[str, dict[str, float]] = field(default_factory=dict)  # phase → {process: CPU seconds}


Progress = Callable[[str, int, int], None]  # (phase, done, total)


async def soak(options: Options, progress: Progress) -> Outcome:
    """Run the soak on a private time-skipping stack and return its outcome (the stack is gone afterwards)."""
    import httpx

    from cli.soak.reconcile import reconcile
    from cli.soak.stack import private_stack
    from core.db import get_engine

    people = driver.customers(options.customers, options.seed, options.decline_share)
    outcome = Outcome(options=options, customers=people)
    progress("starting the private stack", 0, 1)
    if options.chat:
        from cli.soak.chat import preload

        preload()
    async with private_stack() as stack, httpx.AsyncClient(
            base_url=stack.api_url, headers={"X-BSS-API-Token": stack.token}, timeout=120) as http:
        outcome.timings.update(stack.timings)
        api = driver.Timed(http)
        began, cpu = time.perf_counter(), stack.cpu_seconds()

        def cpu_since(phase: str) -> None:
            nonlocal cpu
            now = stack.cpu_seconds()
            outcome.cpu[phase] = {k: round(now[k] - cpu[k], 1) for k in now}
            cpu = now

        done = 0

        async def sign_up(c: driver.Customer) -> None:
            nonlocal done
            await driver.sign_up(api, c, options.seed)
            done += 1
            progress("signing up", done, len(people))

        await driver.gather_limited(options.concurrency, [sign_up(c) for c in people])
        outcome.timings[f"sign up {len(people)} customers (order saga to an active line)"] = time.perf_counter() - began
        cpu_since("sign up")
        began, chatted = time.perf_counter(), 0.0
        chat_day = options.days // 2 if options.chat else -1
        for day in range(options.days):
            progress("living the days", day, options.days)
            await driver.gather_limited(options.concurrency, [driver.live_day(api, c, day, options.days)
                                                              for c in people])
            if day == chat_day:
                from cli.soak.chat import chat_probes

                chat_began = time.perf_counter()
                outcome.chat = await chat_probes(stack.api_url, people, options.seed, api)
                chatted = time.perf_counter() - chat_began
                outcome.timings["chat turns (agent, scripted model)"] = chatted
            moved = await driver.advance(api)
            if moved.get("workflows", {}).get("timedOut") or moved.get("workflows", {}).get("failed"):
                api.unexpected.append(f"clock advance on day {day}: {moved.get('workflows')}")
        progress("living the days", options.days, options.days)
        outcome.timings[f"{options.days} simulated days (without the chat)"] = time.perf_counter() - began - chatted
        cpu_since("days (with the chat)")
        if options.before_reconcile is not None:
            await options.before_reconcile(get_engine())
        began = time.perf_counter()
        progress("reconciling", 0, 1)
        outcome.checks = await reconcile(get_engine(), api, people)
        outcome.timings["reconcile"] = time.perf_counter() - began
        outcome.latency, outcome.unexpected = dict(api.latency), list(api.unexpected)
    return outcome
