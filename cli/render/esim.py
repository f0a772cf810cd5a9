"""The eSIM activation card: terminal QR of the LPA code, masked ICCID/IMSI."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markup import escape
from rich.measure import Measurement
from rich.text import Text

from cli.render.style import card, fields, mask, state


def qr_text(payload: str) -> str:
    """Render `payload` as a QR code in terminal block characters (segno)."""
    import segno

    out = io.StringIO()
    segno.make(payload, error="m").terminal(out=out, compact=True, border=2)
    return out.getvalue().rstrip("\n")


class QrCode:
    """A QR code in half-block characters; a console that cannot show them gets a note instead."""

    NO_BLOCKS = "(the QR code needs a UTF-8 terminal; type the LPA code instead)"

    def __init__(self, payload: str) -> None:
        self.text = qr_text(payload)

    def _lines(self, options: ConsoleOptions) -> str:
        return self.NO_BLOCKS if options.ascii_only else self.text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Draw the code (or the note) line by line, never wrapped: a wrapped QR code does not scan."""
        yield Text(self._lines(options), no_wrap=True, overflow="ignore")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        """As wide as the code's widest line."""
        width = max(len(line) for line in self._lines(options).splitlines())
        return Measurement(width, width)


def esim_card(esim: dict[str, Any], show_qr: bool = True) -> RenderableType:
    """Render a line's eSIM profile with its activation code (and QR); ICCID and IMSI are masked."""
    info = fields(
        ("line", f"{esim['msisdn']}  {esim['subscriptionId']}  {state(esim.get('subscriptionState', ''))}"),
        ("ICCID", mask(esim["iccid"])), ("IMSI", mask(esim["imsi"])), ("profile", state(esim["state"])),
        ("SM-DP+", escape(esim["smdpAddress"])), ("LPA code", Text(esim["activationCode"], style="bold")),
    )
    parts: list[RenderableType] = [info]
    if show_qr:
        parts += [Text(""), QrCode(esim["activationCode"])]
    return card(f"eSIM activation · {esim['subscriptionId']}", Group(*parts),
                subtitle="scan with the phone's camera" if show_qr else None)
