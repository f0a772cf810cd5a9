"""Inventory cards and tables: numbers, eSIM profiles, the add-range result.

The eSIM card masks the ICCID, the IMSI and the matching id (the download secret inside the
activation code): cards end up on shared screens; `--json` gives the full API answer. List tables
keep full ids so they can be pasted into `show`.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table

from cli.render.style import card, fields, mask, state, table


def char(resource: dict[str, Any], name: str) -> Any:
    """The value of a TMF `resourceCharacteristic` by name (None when absent)."""
    return next((c.get("value") for c in resource.get("resourceCharacteristic", []) if c.get("name") == name), None)


def when(value: str | None, with_time: bool = True) -> str:
    """Show an ISO timestamp as `2026-03-02 09:00` (or just the date)."""
    if not value:
        return "—"
    return value.replace("T", " ")[:16 if with_time else 10]


def mask_code(code: str | None) -> str | None:
    """`LPA:1$<host>$<matching id>` with the matching id masked but for its last 4 characters."""
    if not code:
        return None
    head, _, secret = code.rpartition("$")
    return f"{head}${mask(secret)}"


def _status(resource: dict[str, Any]) -> str:
    return f"{state(char(resource, 'state'))} [dim](TMF {resource.get('resourceStatus', '?')})[/]"


def _pool_line(summary: dict[str, Any] | None, noun: str) -> str | None:
    if not summary:
        return None
    low = " [red]⚠ below low watermark[/]" if summary.get("low") else ""
    return (f"{summary['byState'].get('available', 0):,} of {summary['total']:,} {noun} available"
            f" · low watermark {summary['lowWatermark']:,}{low}")


def _with_pool(rows: Table, items: list[dict[str, Any]], pool_line: str | None, noun: str) -> RenderableType:
    parts: list[RenderableType] = [pool_line] if pool_line else []
    parts.append(rows if items else f"[dim]no {noun} match[/]")
    return Group(*parts)


def msisdn_table(items: list[dict[str, Any]], summary: dict[str, Any] | None = None) -> RenderableType:
    """Numbers as a table: number, state, holder, quarantine end."""
    rows = table("number", "state", "held by", "quarantine until")
    for item in items:
        holder = char(item, "assignedTo") or char(item, "reservedFor")
        rows.add_row(item["id"], state(char(item, "state")), holder or "—", when(char(item, "quarantineUntil"), False))
    return _with_pool(rows, items, _pool_line(summary, "numbers"), "numbers")


def msisdn_card(item: dict[str, Any]) -> RenderableType:
    """One number: state, who holds it, quarantine, where it came from."""
    body = fields(("state", _status(item)), ("reserved for", char(item, "reservedFor")),
                   ("assigned to", char(item, "assignedTo")),
                   ("quarantine until", when(char(item, "quarantineUntil")) if char(item, "quarantineUntil") else None),
                   ("range", char(item, "rangeId")), ("in pool since", when(item.get("startOperatingDate"), False)))
    return card(f"MSISDN {item['id']}", body)


def esim_table(items: list[dict[str, Any]], summary: dict[str, Any] | None = None) -> RenderableType:
    """Profiles as a table: ICCID, state, holder order, number."""
    rows = table("ICCID", "state", "order", "MSISDN")
    for item in items:
        rows.add_row(item["id"], state(char(item, "state")), char(item, "reservedFor") or "—",
                     char(item, "assignedMsisdn") or "—")
    return _with_pool(rows, items, _pool_line(summary, "profiles"), "profiles")


def esim_card(item: dict[str, Any]) -> RenderableType:
    """One eSIM profile with masked ICCID, IMSI and activation code."""
    body = fields(("state", _status(item)), ("ICCID", mask(item["id"])), ("IMSI", mask(char(item, "imsi"))),
                   ("SM-DP+", char(item, "smdpAddress")), ("activation", mask_code(char(item, "activationCode"))),
                   ("order", char(item, "reservedFor")), ("MSISDN", char(item, "assignedMsisdn")),
                   ("in pool since", when(item.get("startOperatingDate"), False)))
    return card(f"eSIM profile {mask(item['id'])}", body)


def range_result(result: dict[str, Any]) -> RenderableType:
    """What an add-range did."""
    if result.get("repeated"):
        headline = f"[yellow]range {result['rangeId']} was added before: nothing to do[/]"
    else:
        headline = f"[green]added {result['added']:,} numbers[/] to the pool"
    body = Group(headline, fields(("range", f"{result['first']} – {result['last']}"),
                                   ("size", f"{result['size']:,}"), ("added", f"{result['added']:,}"),
                                   ("already in pool", f"{result['skipped']:,}")))
    return card(f"MSISDN range {result['rangeId']}", body)


def batch_result(result: dict[str, Any]) -> RenderableType:
    """What an eSIM batch load did."""
    headline = (f"[green]added {result['added']:,} eSIM profiles[/] to the pool" if result["added"]
                else "[yellow]every profile of the batch is in the pool already: nothing to do[/]")
    return card("eSIM batch", Group(headline, fields(("size", f"{result['size']:,}"), ("added", f"{result['added']:,}"),
                                                     ("already in pool", f"{result['skipped']:,}"))))
