"""The eSIM activation card: terminal QR of the LPA code, masked ICCID/IMSI."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cli.render.style import card, mask, state


def qr_text(payload: str) -> str:
    """Render `payload` as a QR code in terminal block characters (segno)."""
    import segno

    out = io.StringIO()
    segno.make(payload, error="m").terminal(out=out, compact=True, border=2)
    return out.getvalue().rstrip("\n")


def esim_card(esim: dict[str, Any], show_qr: bool = True) -> Any:
    """Render a line's eSIM profile with its activation code (and QR)."""
    info = Table.grid(padding=(0, 2))
    info.add_column(style="dim")
    info.add_column()
    info.add_row("line", f"{esim['msisdn']}  {esim['subscriptionId']}  {state(esim.get('subscriptionState', ''))}")
    info.add_row("ICCID", mask(esim["iccid"], 4))
    info.add_row("IMSI", mask(esim["imsi"], 4))
    info.add_row("profile", state(esim["state"]))
    info.add_row("SM-DP+", esim["smdpAddress"])
    info.add_row("LPA code", Text(esim["activationCode"], style="bold"))
    parts: list[Any] = [info]
    if show_qr:
        parts += [Text(""), Text(qr_text(esim["activationCode"]))]
    return card("eSIM activation", Group(*parts), subtitle="scan with the phone's camera")
