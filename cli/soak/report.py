"""The soak report: one dict (written as JSON), rendered as Markdown and on screen with Rich."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cli.soak.run import Outcome


def quantiles(samples: list[float]) -> dict[str, float]:
    """n, p50, p95, p99 and max of a list of seconds, in milliseconds (nearest rank)."""
    ordered = sorted(samples)

    def rank(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))] * 1000, 1)

    return {"n": len(ordered), "p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99),
            "max": round(ordered[-1] * 1000, 1)}


def build(outcome: Outcome) -> dict[str, Any]:
    """The whole report as plain data; `gates` must all be zero for the run to pass."""
    o, people = outcome.options, outcome.customers
    chat = outcome.chat
    gates = dict(outcome.checks.get("gates", {}))
    gates["API answers unexpected (5xx, refusals not planned for)"] = len(outcome.unexpected)
    if o.chat:
        gates["chat: cross-customer probes not refused"] = chat.get("probes_not_refused", 0)
        gates["chat: other customers' identifiers shown"] = chat.get("leaked_identifiers", 0)
        gates["chat: ordinary turns refused"] = chat.get("benign_refused", 0)
    activity = {
        "customers": len(people), "lines": sum(bool(c.subscription_id) for c in people),
        "terminated": sum(c.terminated for c in people),
        "usage rated": sum(c.rated for c in people), "usage refused (blocked line)": sum(c.rejected for c in people),
        "purchases (activation + VAS)": sum(len(c.purchases) for c in people),
        "day passes": sum(p == ("vas", "VAS_UNLIMITED_DAY") for c in people for p in c.purchases),
        "plan changes scheduled": sum(c.plan_change is not None for c in people),
        "customers letting a renewal decline": sum(c.declines_renewal for c in people),
        "renewal declines": outcome.checks.get("money", {}).get("declines", 0),
        "explicit renewals after a decline": sum(c.renewals for c in people),
        "cases opened": sum(c.cases for c in people),
        "customer-days blocked": sum(c.blocked_days for c in people),
    }
    if o.chat:
        activity |= {"chat customers": chat.get("customers", 0), "chat turns": chat.get("turns", 0),
                     "trip-wire hits (probes withheld)": chat.get("tripwire_hits", 0)}
    return {"options": {"customers": o.customers, "days": o.days, "seed": o.seed, "chat": o.chat},
            "passed": not any(gates.values()), "gates": gates, "activity": activity,
            "timings_s": {k: round(v, 2) for k, v in outcome.timings.items()},
            "cpu_s": outcome.cpu, "load_average": [round(x, 2) for x in os.getloadavg()],
            "latency_ms": {op: quantiles(s) for op, s in sorted(outcome.latency.items()) if s},
            "money": {k: v for k, v in outcome.checks.get("money", {}).items()},
            "balances": outcome.checks.get("balances", {}), "duplicates": outcome.checks.get("duplicates", []),
            "stranded": outcome.checks.get("stranded", []), "chat": chat,
            "unexpected": outcome.unexpected[:50]}


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown."""
    o = report["options"]
    lines = [(f"# bss soak: {o['customers']} customers × {o['days']} days, seed {o['seed']}"
             f"{', chat' if o['chat'] else ''} — {'PASSED' if report['passed'] else 'FAILED'}"), "",
             "## Gates (each must be 0)", "", "| gate | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in report["gates"].items()]
    lines += ["", "## Activity", "", "| what | count |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in report["activity"].items()]
    m = report["money"]
    if m:
        lines += ["", "## Money (minor units)", "",
                  (f"approved charges {m['charged']} − refunds {m['refunded']} = {m['charged'] - m['refunded']}; "
                  f"bills {m['billed']} − their refunds {m['billed_refunds']} = {m['bills_net']}; "
                  f"client purchases at catalog prices {m['client_told_minor']}, billed for them "
                  f"{m['billed_for_client_purchases_minor']}; {m['charges']} charges, {m['declines']} declined, "
                  f"{m['bills']} bills.")]
    b = report["balances"]
    if b:
        lines += ["", "## Balances", "", (f"{b['balances_checked']} metered balances on {b['lines']} lines; "
                  f"drifting {len(b['drift'])} (total |drift| {b['total_abs_drift']}), API differing "
                  f"{len(b['api_drift'])}.")]
        lines += [f"- {d}" for d in (b["drift"] + b["api_drift"])[:20]]
    for title, key in (("Duplicate charges", "duplicates"), ("Stranded", "stranded"), ("Unexpected answers", "unexpected")):
        if report[key]:
            lines += ["", f"## {title}", "", *[f"- {x}" for x in report[key][:20]]]
    if report["chat"].get("leaks"):
        lines += ["", "## Leaked identifiers", "", *[f"- {x}" for x in report["chat"]["leaks"]]]
    lines += ["", "## Latency per operation (ms)", "", "| operation | n | p50 | p95 | p99 | max |", "|---|---|---|---|---|---|"]
    lines += [f"| {op} | {q['n']} | {q['p50']} | {q['p95']} | {q['p99']} | {q['max']} |"
              for op, q in report["latency_ms"].items()]
    lines += ["", "## Wall time (s)", "", "| phase | seconds |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in report["timings_s"].items()]
    lines += [f"\nCPU seconds, {phase}: " + ", ".join(f"{k} {v}" for k, v in cpu.items())
              for phase, cpu in report["cpu_s"].items()]
    lines += ["", f"Load average at the end: {' / '.join(map(str, report['load_average']))}.", ""]
    return "\n".join(lines)


def write(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """Write soak.json and soak.md into `out`; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    as_json, as_md = out / "soak.json", out / "soak.md"
    as_json.write_text(json.dumps(report, indent=2, default=str, ensure_ascii=False) + "\n")
    as_md.write_text(markdown(report))
    return as_json, as_md


def render(report: dict[str, Any]) -> Any:
    """The report for the terminal: gates, activity, latency and wall time."""
    from rich.console import Group
    from rich.table import Table

    o = report["options"]
    gates = Table(title=f"soak: {o['customers']} customers × {o['days']} days, seed {o['seed']}"
                        f"{', chat' if o['chat'] else ''}", title_justify="left")
    gates.add_column("gate (must be 0)")
    gates.add_column("value", justify="right")
    for name, value in report["gates"].items():
        gates.add_row(name, f"[{'red' if value else 'green'}]{value}[/]")
    activity = Table(title="activity", title_justify="left")
    activity.add_column("what")
    activity.add_column("count", justify="right")
    for name, value in report["activity"].items():
        activity.add_row(name, str(value))
    latency = Table(title="latency per operation (ms)", title_justify="left")
    for column in ("operation", "n", "p50", "p95", "p99", "max"):
        latency.add_column(column, justify="left" if column == "operation" else "right")
    for op, q in report["latency_ms"].items():
        latency.add_row(op, *(str(q[k]) for k in ("n", "p50", "p95", "p99", "max")))
    wall = Table(title="wall time (s)", title_justify="left")
    wall.add_column("phase")
    wall.add_column("s", justify="right")
    for name, value in report["timings_s"].items():
        wall.add_row(name, f"{value:.1f}")
    cpu = Table(title="CPU seconds", title_justify="left")
    cpu.add_column("phase")
    for name in next(iter(report["cpu_s"].values()), {}):
        cpu.add_column(name, justify="right")
    for phase, spent in report["cpu_s"].items():
        cpu.add_row(phase, *(f"{v:.1f}" for v in spent.values()))
    verdict = "[bold green]PASSED: every gate is 0[/]" if report["passed"] else "[bold red]FAILED: a gate is not 0[/]"
    return Group(gates, activity, latency, wall, cpu, verdict)
