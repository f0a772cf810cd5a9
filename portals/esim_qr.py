"""The eSIM activation code as a phone scans it: an inline SVG QR code (segno) and the code's parts.

An LPA activation code is `LPA:1$<SM-DP+ address>$<matching id>` (GSMA SGP.22). The QR carries
the whole string; a person typing it in by hand is asked for the SM-DP+ address and the matching
id separately, so both are shown too. The SVG is inline (no image request, nothing cached on
disk) and scales with its box through its viewBox; a white quiet zone keeps it readable on any
background, including dark mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno
from markupsafe import Markup

LPA_PREFIX = "LPA:1$"


@dataclass(frozen=True)
class ActivationCode:
    """An LPA activation code and the parts a person types in by hand."""

    code: str
    smdp_address: str
    matching_id: str


def parse_lpa(code: str) -> ActivationCode:
    """Split `LPA:1$host$matching-id`; raise ValueError for anything else."""
    if not code.startswith(LPA_PREFIX):
        raise ValueError("not an LPA activation code")
    parts = code[len(LPA_PREFIX):].split("$")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise ValueError("an LPA activation code names an SM-DP+ address and a matching id")
    return ActivationCode(code=code, smdp_address=parts[0], matching_id=parts[1])


def qr_svg(text: str, title: str = "eSIM QR code", css_class: str = "qr") -> Markup:
    """An inline `<svg role="img">` QR code of `text`, titled for screen readers, safe to put in a template."""
    # Error level M survives a scuffed screen or a glare spot; the code is short, so the QR stays small.
    qr = segno.make(text, error="m", micro=False)
    svg = qr.svg_inline(scale=1, border=4, omitsize=True, title=title, svgclass=css_class, light="#fff",
                        dark="#000")
    return Markup(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))  # segno escapes the title
