"""The dev mailbox as tests read it: the mails the stack wrote to `Settings.mailbox_path`."""

from __future__ import annotations

import json
import re
from typing import Any

from core.settings import get_settings

CODE = re.compile(r"\b(\d{6})\b")
LINK = re.compile(r"(https?://\S+/login/link\?token=[A-Za-z0-9_-]+)")


def mails(to: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    """Every mail in the mailbox, oldest first; only those to `to` and of `kind` when given."""
    path = get_settings().mailbox_path
    if not path.exists():
        return []
    found = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [m for m in found if (to is None or m["to"] == to.lower()) and (kind is None or m["kind"] == kind)]


def latest(to: str, kind: str) -> dict[str, Any]:
    """The newest mail of `kind` to `to` (AssertionError when there is none)."""
    found = mails(to, kind)
    assert found, f"no {kind} mail to {to} in {get_settings().mailbox_path}"
    return found[-1]


def latest_code(to: str, kind: str = "login_code") -> str:
    """The 6-digit code of the newest mail of `kind` to `to`."""
    match = CODE.search(latest(to, kind)["text"])
    assert match, "the mail carries no 6-digit code"
    return match.group(1)


def latest_link(to: str) -> str:
    """The magic link of the newest login mail to `to`."""
    match = LINK.search(latest(to, "login_code")["text"])
    assert match, "the login mail carries no magic link"
    return match.group(1)
