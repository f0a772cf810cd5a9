"""Order renderers: the order tree card (order → service order → CFS → RFS → tasks) and the order list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.text import Text
from rich.tree import Tree

from cli.render.provisioning import NEEDS_OPERATOR, duration, task_state
from cli.render.style import card, fields, mask, money, state, table

# TMF622 wire states → SPEC §2 names, so the list reads like the card.
WIRE_STATES = {"inProgress": "in_progress"}
# Where an order that ended early stopped, in words (the tree has no service order to show then).
NO_SERVICE_ORDER = {"completed": "no service order", "failed": "ended before provisioning",
                    "cancelled": "cancelled before provisioning"}


def _when(value: str | None) -> str:
    return value.replace("T", " ")[:19] + " UTC" if value else "—"


def _took(start: str | None, end: str | None) -> str:
    """`in 4.2 s` between two ISO instants ('' when either is missing)."""
    if not start or not end:
        return ""
    seconds = (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()
    return f"  [dim]in {duration(round(seconds * 1000))}[/]"


def _task_line(task: dict[str, Any]) -> str:
    retried = " [yellow]retried[/]" if task["state"] == "completed" and (task.get("attempts") or 0) > 1 else ""
    line = (f"[bold]{task['taskType']}[/] {task['id']}  {task_state(task['state'])}  "
            f"[dim]{duration(task.get('durationMs'))} · attempts {task.get('attempts') or 0}[/]{retried}")
    if task.get("operatorNote"):
        line += f"  [dim]note:[/] {escape(task['operatorNote'])}"
    elif task.get("lastError") and task["state"] in NEEDS_OPERATOR:
        line += f"  [red]{escape(task['lastError'])}[/]"
    return line


def _head(order: dict[str, Any]) -> RenderableType:
    # A failed or cancelled order hands its number and profile back (compensation), so they read as released.
    released = " [dim](released)[/]" if order["state"] in ("failed", "cancelled") else ""
    line = None
    if order.get("msisdn"):
        line = order["msisdn"] + (released or f" → {order.get('subscriptionId') or '…'}")
    ended = order.get("completedAt")
    return fields(
        ("state", f"{state(order['state'])}  [dim]step[/] {order['step']}"),
        ("reason", Text(order["failureReason"], style="red") if order.get("failureReason") else None),
        ("customer", order["customerId"]),
        ("offering", f"{order['offeringId']}  {money(order['priceMinor'], order['currency'])} / {order['periodDays']} days"),
        ("line", line),
        ("eSIM", mask(order["iccid"]) + released if order.get("iccid") else None),
        ("ordered", _when(order.get("orderDate"))),
        ("ended", _when(ended) + _took(order.get("orderDate"), ended) if ended else None),
    )


def _tree(tree_view: dict[str, Any]) -> Tree:
    order = tree_view["order"]
    root = Tree(f"[bold]{order['id']}[/] {state(order['state'])}")
    so = tree_view.get("serviceOrder")
    if not so:
        root.add(f"[dim]{NO_SERVICE_ORDER.get(order['state'], 'service order not created yet')}[/]")
        return root
    so_label = f"service order [bold]{so['id']}[/] {state(so['state'])}"
    if so.get("failureReason") and so["failureReason"] != order.get("failureReason"):
        so_label += f"  [red]{escape(so['failureReason'])}[/]"
    so_node = root.add(so_label)
    by_parent: dict[str | None, list[dict]] = {}
    for svc in tree_view.get("services", []):
        by_parent.setdefault(svc.get("parentServiceId"), []).append(svc)
    for cfs in by_parent.get(None, []):
        cfs_node = so_node.add(f"CFS {cfs['specName']} [bold]{cfs['id']}[/] {state(cfs['state'])}")
        for rfs in by_parent.get(cfs["id"], []):
            cfs_node.add(f"RFS {rfs['specName']} [bold]{rfs['id']}[/] {state(rfs['state'])}")
    tasks = tree_view.get("tasks", [])
    if tasks:
        tasks_node = so_node.add("provisioning tasks")
        for task in tasks:
            tasks_node.add(_task_line(task))
    return root


def _next_step(tree_view: dict[str, Any]) -> str | None:
    stuck = [t["id"] for t in tree_view.get("tasks", []) if t["state"] == "stuck"]
    if stuck and tree_view["order"]["state"] not in ("completed", "failed", "cancelled"):
        return f"bss prov resolve {stuck[0]} --note '…'  or  bss prov retry {stuck[0]}"
    return None


def order_tree(tree_view: dict[str, Any]) -> RenderableType:
    """Render the whole decomposition of one order as a card (⚠ on stuck or failed tasks)."""
    parts: list[RenderableType] = [_head(tree_view["order"]), Text(""), _tree(tree_view)]
    if hint := _next_step(tree_view):
        parts += [Text(""), f"[dim]next:[/] {hint}"]
    return card(f"order {tree_view['order']['id']}", Group(*parts))


def order_list(orders: list[dict[str, Any]]) -> RenderableType:
    """A table of orders from the TMF622 list."""
    if not orders:
        return "[dim]no orders[/]"
    t = table("order", "state", "customer", "offering", "ordered (UTC)")
    for column in t.columns:
        column.no_wrap = True
    for o in orders:
        customer = next((p["id"] for p in o.get("relatedParty", [])), "—")
        offering = o["productOrderItem"][0]["productOffering"]["id"]
        t.add_row(o["id"], state(WIRE_STATES.get(o["state"], o["state"])), customer, offering,
                  (o.get("orderDate") or "")[:19].replace("T", " "))
    return t
