"""Order renderers: the order tree card (order → service order → CFS → RFS → tasks)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from cli.render.style import card, money, state, table

TASK_WARN = {"stuck", "failed"}


def _task_line(task: dict[str, Any]) -> str:
    warn = " [red]⚠[/]" if task["state"] in TASK_WARN or (task.get("attempts") or 0) > 1 else ""
    duration = f"{task['durationMs']:,} ms" if task.get("durationMs") is not None else "—"
    note = f"  [dim]{task['operatorNote']}[/]" if task.get("operatorNote") else ""
    error = f"  [red]{task['lastError']}[/]" if task.get("lastError") and task["state"] != "completed" else ""
    return (f"[bold]{task['taskType']}[/] {task['id']}  {state(task['state'])}  {duration}  "
            f"attempts {task.get('attempts') or 0}{warn}{note}{error}")


def order_tree(tree_view: dict[str, Any]) -> Any:
    """Render the whole decomposition of one order as a card."""
    order = tree_view["order"]
    head = Table.grid(padding=(0, 2))
    head.add_column(style="dim")
    head.add_column()
    head.add_row("state", f"{state(order['state'])}  [dim]step[/] {order['step']}")
    head.add_row("customer", order["customerId"])
    head.add_row("offering", f"{order['offeringId']}  {money(order['priceMinor'], order['currency'])} / "
                             f"{order['periodDays']} days")
    if order.get("msisdn"):
        head.add_row("line", f"{order['msisdn']}  → {order.get('subscriptionId') or '…'}")
    if order.get("failureReason"):
        head.add_row("reason", Text(order["failureReason"], style="red"))
    root = Tree(f"[bold]{order['id']}[/] {state(order['state'])}")
    so = tree_view.get("serviceOrder")
    if so:
        so_node = root.add(f"service order [bold]{so['id']}[/] {state(so['state'])}")
        by_parent: dict[str | None, list[dict]] = {}
        for svc in tree_view.get("services", []):
            by_parent.setdefault(svc.get("parentServiceId"), []).append(svc)
        for cfs in by_parent.get(None, []):
            cfs_node = so_node.add(f"CFS {cfs['specName']} [bold]{cfs['id']}[/] {state(cfs['state'])}")
            for rfs in by_parent.get(cfs["id"], []):
                cfs_node.add(f"RFS {rfs['specName']} [bold]{rfs['id']}[/] {state(rfs['state'])}")
        tasks_node = so_node.add("provisioning tasks")
        for task in tree_view.get("tasks", []):
            tasks_node.add(_task_line(task))
    return card(f"Order {order['id']}", Group(head, Text(""), root))


def order_list(orders: list[dict[str, Any]]) -> Table:
    """A table of orders from the TMF622 list."""
    t = table("order", "state", "customer", "offering", "date")
    for o in orders:
        customer = next((p["id"] for p in o.get("relatedParty", [])), "—")
        offering = o["productOrderItem"][0]["productOffering"]["id"]
        t.add_row(o["id"], state(o["state"]), customer, offering, (o.get("orderDate") or "")[:19])
    return t
