"""The queue → worker process layout of `bss up --workers N`, its components and the recorded scale."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.stack.components import build_components, is_worker
from cli.stack.layout import LayoutError, default_layout, parse_layout
from cli.stack.scale import read, recorded, remember, with_scale
from core.settings import Settings
from workers.main import parse_args, tuning
from workflows import queues

ALL = ("orders", "subscriptions", "payments", "provisioning", "system", "events")


def _layout(count: int) -> dict[str, tuple[str, ...]]:
    return {proc.name: proc.queues for proc in default_layout(count)}


def test_one_process_serves_every_queue() -> None:
    assert _layout(1) == {"worker": ALL}


def test_from_two_processes_payments_has_its_own() -> None:
    assert _layout(2) == {"worker:payments": ("payments",),
                          "worker": ("orders", "subscriptions", "provisioning", "system", "events")}
    three = _layout(3)
    assert three["worker:payments"] == ("payments",) and three["worker:orders"] == ("orders",)
    assert three["worker"] == ("subscriptions", "provisioning", "system", "events")


@pytest.mark.parametrize("count", range(1, 10))
def test_every_queue_is_served_and_singletons_once(count: int) -> None:
    procs = default_layout(count)
    served = [q for proc in procs for q in proc.queues]
    assert len(procs) == count and set(served) == set(ALL)
    assert served.count("system") == 1 and served.count("events") == 1
    assert len({proc.name for proc in procs}) == count
    assert {q for proc in procs for q in proc.task_queues} == set(queues.ALL)


def test_past_one_process_per_queue_the_cpu_queues_are_replicated() -> None:
    assert _layout(6)["worker:system"] == ("system",) and "worker" not in _layout(6)
    assert _layout(8)["worker:orders-2"] == ("orders",) and _layout(8)["worker:subscriptions-2"] == ("subscriptions",)


def test_an_explicit_layout_is_read_and_checked() -> None:
    procs = parse_layout("payments; bss-orders,subscriptions ; orders; provisioning,system,events")
    assert [(p.name, p.queues) for p in procs] == [
        ("worker:payments", ("payments",)), ("worker:orders+subscriptions", ("orders", "subscriptions")),
        ("worker:orders", ("orders",)), ("worker:provisioning+system+events", ("provisioning", "system", "events"))]
    with pytest.raises(LayoutError, match="no worker process serves payments"):
        parse_layout("orders,subscriptions,provisioning,system,events")
    with pytest.raises(LayoutError, match="unknown task queue 'billing'"):
        parse_layout("billing;" + ",".join(ALL))
    with pytest.raises(LayoutError, match="system must be served by one process"):
        parse_layout(",".join(ALL) + ";system")
    with pytest.raises(LayoutError):
        default_layout(0)


def test_components_start_one_worker_per_process_with_its_queues(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, worker_procs=2)
    workers = {c.name: c for c in build_components(settings) if is_worker(c.name)}
    assert set(workers) == {"worker", "worker:payments"}
    argv = workers["worker:payments"].argv
    assert argv[-4:] == ("--name", "worker:payments", "--queues", "payments")
    # The worker process reads those arguments back as the full task queue names.
    assert parse_args(list(argv[3:])) == ("worker:payments", [queues.PAYMENTS])
    assert parse_args([]) == ("worker", list(queues.ALL))
    # Healthy means: this pid wrote the ready file of this name.
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "worker:payments.ready").write_text("4242")
    assert workers["worker:payments"].probe(4242) and not workers["worker"].probe(4242)


def test_the_scale_is_recorded_for_later_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BSS_API_PROCS", "BSS_WORKER_PROCS", "BSS_WORKER_LAYOUT"):
        monkeypatch.delenv(name, raising=False)
    base = Settings(home=tmp_path, worker_layout="payments;" + ",".join(q for q in ALL if q != "payments"))
    assert read(base) is None and recorded(base) is base
    scaled = with_scale(base, api_workers=3, worker_procs=2)
    assert (scaled.api_workers, scaled.worker_procs, scaled.worker_layout) == (3, 2, None)  # a count drops the layout
    (tmp_path / "run").mkdir()
    remember(scaled)
    # A later command of the same stack, started without options, sees (and exports) that scale.
    again = recorded(Settings(home=tmp_path))
    assert (again.api_workers, again.worker_procs) == (3, 2)
    assert Settings().api_workers == 3 and Settings().worker_procs == 2  # what a spawned process reads


def test_worker_tuning_comes_from_the_settings_per_queue() -> None:
    settings = Settings(worker_max_cached_workflows=500,
                        worker_tuning={"provisioning": {"max_concurrent_activities": 20}})
    assert tuning(settings, queues.PROVISIONING) == {
        "max_cached_workflows": 500, "max_concurrent_activities": 20, "max_concurrent_workflow_tasks": 100}
    assert tuning(settings, queues.PAYMENTS)["max_concurrent_activities"] == 100
    with pytest.raises(ValueError, match="unknown option"):
        tuning(Settings(worker_tuning={"orders": {"max_slots": 1}}), queues.ORDERS)
