"""A workflow module never changes without a recorded history replaying it (docs/WORKFLOW_VERSIONING.md).

`histories/MANIFEST.json` holds the sha256 of each workflow module's source and of the fixtures that
replay it (`tests/workflows/history_manifest.py` says how to update it); `test_replay.py` replays
every listed fixture.
"""

from __future__ import annotations

from tests.workflows import history_manifest as hm


def test_every_workflow_module_is_replayed_by_histories_recorded_from_its_source():
    found = hm.problems(hm.load())
    assert not found, "\n".join(found)


def test_the_manifest_sees_every_workflow_module_and_names_fixtures_by_their_workflow():
    modules = hm.workflow_modules()
    assert {"workflows/order.py", "workflows/subscription.py", "workflows/ticket_sla.py",
            "workflows/diagnostics.py"} <= set(modules)
    for module, entry in hm.load().items():
        assert {hm.fixture_type(f) for f in entry["fixtures"]} <= set(modules[module]), module


def test_a_changed_module_is_reported_with_what_to_do(monkeypatch):
    real = hm.source_hash
    monkeypatch.setattr(hm, "source_hash", lambda m: "0" * 64 if m == "workflows/order.py" else real(m))
    (found,) = hm.problems(hm.load())
    assert "workflows/order.py changed" in found and "BSS_RECORD_HISTORIES=1" in found and hm.UPDATE in found
    refusal = ""
    try:
        hm.update(set())
    except SystemExit as exc:
        refusal = str(exc)
    assert "no new history" in refusal
    assert hm.update({"workflows/order.py"})["workflows/order.py"]["sha256"] == "0" * 64
