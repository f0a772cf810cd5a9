"""`bss usage`: send a network usage event (TMF635) and read a line's usage history."""

from __future__ import annotations

import re
import uuid

import typer

USAGE = "/tmf-api/usageManagement/v4/usage"
UNITS = {"data": "MB", "voice": "s", "sms": "sms"}
# Accepted suffixes per type, with their size in the type's base unit (MB, seconds, count).
SUFFIXES = {
    "data": {"": 1, "mb": 1, "m": 1, "gb": 1024, "g": 1024},
    "voice": {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600},
    "sms": {"": 1, "sms": 1},
}
_QUANTITY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


def parse_quantity(text: str, usage_type: str) -> int:
    """Parse `1GB`, `500MB`, `90s`, `5min`, `3 sms` into base units of `usage_type` (1 GB = 1024 MB)."""
    match = _QUANTITY.match(text.lower())
    suffixes = SUFFIXES.get(usage_type, {})
    if not match or match.group(2) not in suffixes:
        allowed = ", ".join(s for s in suffixes if s) or "none"
        raise typer.BadParameter(f"'{text}' is not a {usage_type} quantity (a number, optionally with {allowed})")
    value = float(match.group(1)) * suffixes[match.group(2)]
    if value != int(value):
        raise typer.BadParameter(f"'{text}' is not a whole number of {UNITS[usage_type]}")
    return int(value)


def usage_body(msisdn: str, usage_type: str, quantity: int, roaming: bool, event_id: str) -> dict:
    """A TMF635 `Usage_Create` for one event."""
    chars = [{"name": "msisdn", "value": msisdn}, {"name": "quantity", "value": quantity},
             {"name": "unit", "value": UNITS.get(usage_type, "")}, {"name": "roaming", "value": roaming},
             {"name": "eventId", "value": event_id}]
    return {"usageType": usage_type, "usageCharacteristic": chars}


def register(app: typer.Typer) -> None:
    """Add the `usage` group to `app`."""
    group = typer.Typer(help="Usage events: rate one against a line's bundle, or show a line's history.",
                        no_args_is_help=True)
    app.add_typer(group, name="usage")

    @group.command("simulate")
    def simulate(
        msisdn: str = typer.Option(..., "--msisdn", help="The line's number."),
        usage_type: str = typer.Option("data", "--type", help="data | voice | sms."),
        quantity: str = typer.Option(..., "--quantity", help="e.g. 1GB, 500MB, 90s, 5min, 3 sms."),
        roaming: bool = typer.Option(False, "--roaming", help="Roaming data (draws from the roaming bundle)."),
        event_id: str | None = typer.Option(None, "--event-id", help="The network's event id; resending it "
                                            "returns the first result. Default: a new one."),
        as_json: bool = typer.Option(False, "--json", help="Print the API's JSON."),
    ) -> None:
        """Send one usage event as the network would, and show how it was rated."""
        from cli.output import api_errors, emit
        from cli.render.usage import usage_card
        from core.api_client import BssClient

        if usage_type not in UNITS:
            raise typer.BadParameter(f"must be one of {', '.join(UNITS)}", param_hint="--type")
        amount = parse_quantity(quantity, usage_type)
        body = usage_body(msisdn, usage_type, amount, roaming, event_id or f"cli-{uuid.uuid4().hex[:16]}")
        with api_errors(as_json), BssClient() as client:
            usage = client.post(USAGE, body)
        emit(usage, as_json, usage_card)

    @group.command("history")
    def history(
        msisdn: str | None = typer.Option(None, "--msisdn", help="Every event sent for this number."),
        subscription_id: str | None = typer.Option(None, "--subscription", help="Every event of a line (SUB-…)."),
        limit: int = typer.Option(50, "--limit", min=1, max=1000, help="Newest events to show."),
        as_json: bool = typer.Option(False, "--json", help="Print the API's JSON."),
    ) -> None:
        """Show usage events of a number or a line, newest first, rated and rejected."""
        from cli.output import api_errors, emit
        from cli.render.usage import history_table
        from core.api_client import BssClient

        if (msisdn is None) == (subscription_id is None):
            raise typer.BadParameter("give exactly one of --msisdn or --subscription")
        params = {"msisdn": msisdn} if msisdn else {"subscription.id": subscription_id}
        with api_errors(as_json), BssClient() as client:
            items = client.get(USAGE, **params, limit=limit)
        emit(items, as_json, lambda data: history_table(data, msisdn or subscription_id or ""))
