"""`bss soak` for real, small: its own private stack, the gates 0 and the report files reconciling — and a
balance tampered with by a hook (after the days, before the reconciliation) fails its gate and the command.

Both commands start together (each is its own process with its own stack), so the file costs about one run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

BSS = Path(sys.executable).with_name("bss")
DRIFT_GATE = "balances: lines × allowances drifting (database)"


async def tamper(db) -> None:
    """The hook: one metered balance loses 7 units that no usage row accounts for."""
    async with db.begin() as conn:
        await conn.execute(text("UPDATE subscription.bundle_balance SET consumed = consumed + 7"
                                " WHERE (subscription_id, allowance_type) = (SELECT subscription_id, allowance_type"
                                " FROM subscription.bundle_balance WHERE total > 0 ORDER BY 1, 2 LIMIT 1)"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start the clean run (4 customers × 3 days, chat) and the tampered one (2 × 1) at once."""
    base = tmp_path_factory.mktemp("soak")
    clean = subprocess.Popen([str(BSS), "soak", "--customers", "4", "--days", "3", "--chat", "--seed", "7",
                              "--out", str(base / "clean"), "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    tampered = subprocess.Popen([str(BSS), "soak", "--customers", "2", "--days", "1", "--seed", "3", "--out",
                                 str(base / "tampered"), "--before-reconcile", "tests.cli.test_soak:tamper"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield {"clean": (clean, base / "clean"), "tampered": (tampered, base / "tampered")}
    for proc in (clean, tampered):
        if proc.poll() is None:  # SIGTERM: the command stops its PostgreSQL and Temporal on the way out
            proc.terminate()
            proc.communicate(timeout=60)


def finished(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out if isinstance(out, str) else out.decode(), err if isinstance(err, str) else err.decode()


def test_a_small_soak_passes_every_gate_and_its_report_reconciles(runs):
    proc, out = runs["clean"]
    code, stdout, stderr = finished(proc)
    assert code == 0, stderr[-3000:]
    report = json.loads(stdout)
    assert report == json.loads((out / "soak.json").read_text())
    assert report["passed"] and report["gates"] and not any(report["gates"].values()), report["gates"]
    assert "PASSED" in (out / "soak.md").read_text().splitlines()[0]
    money, activity, chat = report["money"], report["activity"], report["chat"]
    assert money["charged"] - money["refunded"] == money["bills_net"] > 0
    assert money["client_told_minor"] == money["billed_for_client_purchases_minor"] > 0
    assert activity["lines"] == 4 and activity["usage rated"] > 0
    assert report["balances"]["balances_checked"] > 0 and report["balances"]["drift"] == []
    # Every chatting customer's two probes were refused; the answer probe tripped the wire each time.
    assert chat["customers"] >= 4 and chat["probes"] == chat["probes_refused"] == 2 * chat["customers"]
    assert chat["tripwire_hits"] >= chat["customers"] and chat["leaked_identifiers"] == 0
    assert {"usage.data", "order.create", "clock.advance", "chat.answer_probe"} <= set(report["latency_ms"])


def test_a_tampered_balance_fails_its_gate_and_the_command(runs):
    proc, out = runs["tampered"]
    code, stdout, stderr = finished(proc)
    assert code == 1, stdout[-3000:] + stderr[-3000:]
    assert "FAILED" in stdout
    report = json.loads((out / "soak.json").read_text())
    assert not report["passed"]
    assert {k: v for k, v in report["gates"].items() if v} == {DRIFT_GATE: 1}
    (drift,) = report["balances"]["drift"]
    assert drift["drift"] == -7
