"""Provisioning and SOM cards: the task table (⚠ on stuck/failed), a task, fault rules, the order tree."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.tree import Tree

from cli.render.style import card, fields, state, table

NEEDS_OPERATOR = ("stuck", "failed")
SO_STATES = {"inProgress": "in_progress"}  # TMF641 wire names the operator reads in SPEC terms
SERVICE_STATES = {"active": "activated", "inactive": "failed"}  # TMF638 wire → SPEC §2


def task_state(value: str | None) -> str:
    """A task state, with ⚠ when it waits for an operator."""
    text = state(value or "—")
    return f"[bold red]⚠[/] {text}" if value in NEEDS_OPERATOR else text


def duration(ms: int | None) -> str:
    """`210 ms`, `1.4 s`, `2 min 5 s`; — when the task has not finished."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return f"{ms // 60_000} min {ms % 60_000 // 1000} s"


def attempts(task: dict) -> str:
    """`1/3`: attempts used of the budget."""
    return f"{task.get('attempts', 0)}/{task.get('maxAttempts', '?')}"


def _when(value: str | None) -> str | None:
    return value.replace("T", " ")[:19] + " UTC" if value else None


def _owner(task: dict) -> str:
    return task.get("productOrderId") or task.get("subscriptionId") or "—"


def _detail(task: dict) -> str:
    if task.get("operatorNote"):
        return f"[dim]note:[/] {escape(task['operatorNote'])}"
    if not task.get("lastError"):
        return ""
    # An old error on a task that went through since is history, not an alarm.
    colour = "red" if task.get("state") in NEEDS_OPERATOR else "dim"
    return f"[{colour}]{escape(task['lastError'])}[/]"


def tasks_table(tasks: list[dict]) -> RenderableType:
    """Provisioning tasks as a table: state (⚠ stuck/failed), attempts, duration, last error or note."""
    if not tasks:
        return "[dim]no tasks[/]"
    # Fits 80 columns: ids and states never break; only the detail wraps (the element is in `prov show`).
    rows = table("task", "type", "state", "attempts", "duration", "order", "detail")
    rows.show_edge = False
    for column in rows.columns[:6]:
        column.no_wrap = True
    for t in tasks:
        rows.add_row(t["id"], t.get("taskType", ""), task_state(t.get("state")), attempts(t),
                     duration(t.get("durationMs")), _owner(t), _detail(t))
    return rows


def task_card(task: dict) -> RenderableType:
    """One task: what it configures, where it stands, its attempts, error and operator note."""
    hint = None
    if task.get("state") == "stuck":
        hint = f"bss prov resolve {task['id']} --note '…'  or  bss prov retry {task['id']}"
    elif task.get("state") == "failed" and task.get("attempts", 0) < task.get("maxAttempts", 0):
        hint = f"bss prov retry {task['id']}"
    body = fields(
        ("type", task.get("taskType")), ("element", task.get("element")),
        ("state", task_state(task.get("state"))),
        ("attempts", attempts(task)), ("duration", duration(task.get("durationMs"))),
        ("order", task.get("productOrderId")), ("service order", task.get("serviceOrderId")),
        ("service", task.get("serviceId")), ("line", task.get("subscriptionId")),
        ("started", _when(task.get("startedAt"))), ("finished", _when(task.get("finishedAt"))),
        ("last error", escape(task.get("lastError") or "")),
        ("operator note", escape(task.get("operatorNote") or "")),
        ("next", hint),
    )
    return card(f"{task['id']} · {task.get('taskType', '')}", body)


def faults_table(rules: list[dict]) -> RenderableType:
    """Fault rules: enabled ones first in colour."""
    if not rules:
        return "[dim]no fault rules (run `bss seed`)[/]"
    rows = table("task type", "element", "mode", "enabled", "probability", "slow")
    rows.show_edge = False
    for r in rules:
        on = "[bold red]● on[/]" if r.get("enabled") else "[dim]off[/]"
        slow = f"{r['slowMs']} ms" if r.get("slowMs") else "—"
        chance = f"{r.get('probabilityPct', 100)} %"
        rows.add_row(r["taskType"], r.get("element", ""), r["mode"], on, chance, slow)
    return rows


def _service_label(svc: dict) -> str:
    wire = svc.get("state", "")
    return (f"[bold]{svc.get('category', '')}[/] {svc.get('name') or svc['id']}  [dim]{svc['id']}[/]  "
            f"{state(SERVICE_STATES.get(wire, wire))}")


def _task_label(t: dict) -> str:
    # Only what still matters: why a task waits for an operator, or what the operator did.
    detail = _detail(t) if t.get("state") in NEEDS_OPERATOR or t.get("operatorNote") else ""
    return (f"{t['id']} {t.get('taskType', '')}  {task_state(t.get('state'))}  "
            f"[dim]{attempts(t)} · {duration(t.get('durationMs'))}[/]" + (f"  {detail}" if detail else ""))


def service_order_tree(so: dict, tasks: list[dict]) -> RenderableType:
    """Service order → CFS → RFS → tasks, with states, attempts, durations and ⚠."""
    wire = so.get("state", "")
    root = Tree(f"[bold]{so['id']}[/]  {state(SO_STATES.get(wire, wire))}  [dim]product order "
                f"{so.get('externalId', '—')}[/]")
    items = so.get("serviceOrderItem", [])
    nodes: dict[str, Tree] = {}
    for item in items:  # CFS first, then the RFS under the item they rely on
        svc = item["service"]
        relations = item.get("serviceOrderItemRelationship", [])
        parent_id = next((r["orderItem"]["itemId"] for r in relations), None)
        parent = nodes.get(parent_id, root) if parent_id else root
        nodes[svc["id"]] = parent.add(_service_label(svc))
    for t in tasks:
        nodes.get(t.get("serviceId") or "", root).add(_task_label(t))
    reason = so.get("cancellationReason") or next((n.get("text") for n in so.get("note", [])), None)
    parts: list[RenderableType] = [root]
    if reason:
        parts += ["", f"[red]{escape(reason)}[/]"]
    return card(f"service order {so['id']}", Group(*parts))


def service_card(svc: dict) -> RenderableType:
    """One service: spec, state, characteristics, relations, resources and its activation tasks."""
    chars = [c for c in svc.get("serviceCharacteristic", []) if not c["name"].startswith("task.")]
    tasks = [c["value"] for c in svc.get("serviceCharacteristic", []) if c["name"].startswith("task.")]
    wire = svc.get("state", "")
    order = next((e["id"] for e in svc.get("relatedEntity", []) if e.get("role") == "productOrder"), None)
    line = next((e["id"] for e in svc.get("relatedEntity", []) if e.get("role") == "product"), None)
    so = next((i["serviceOrderId"] for i in svc.get("serviceOrderItem", [])), None)
    parent = next((r["service"]["id"] for r in svc.get("serviceRelationship", [])
                   if r.get("relationshipType") == "supports"), None)
    parts: list[RenderableType] = [fields(
        ("spec", (svc.get("serviceSpecification") or {}).get("name")), ("category", svc.get("category")),
        ("state", state(SERVICE_STATES.get(wire, wire))), ("product order", order), ("service order", so),
        ("line", line), ("part of", parent),
        ("supported by", ", ".join(s["id"] for s in svc.get("supportingService", [])) or None),
        ("resources", ", ".join(f"{r.get('@referredType')} {r['id']}"
                                for r in svc.get("supportingResource", [])) or None),
    )]
    if chars:
        parts += ["", "[bold]characteristics[/]", fields(*((c["name"], c["value"]) for c in chars))]
    if tasks:
        rows = table("task", "type", "state", "attempts", "duration")
        rows.show_edge = False
        for t in tasks:
            rows.add_row(t["id"], t.get("taskType", ""), task_state(t.get("state")), attempts(t),
                         duration(t.get("durationMs")))
        parts += ["", "[bold]activation tasks[/]", rows]
    return card(f"{svc['id']} · {svc.get('name', '')}", Group(*parts))
