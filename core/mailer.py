"""Mail to people: SMTP when a host is configured, else the dev mailbox file.

The dev mailbox is one JSON object per line (`{"id", "at", "to", "subject", "text", "kind"}`)
appended to `Settings.mailbox_path`, so a developer can `tail -f` it and tests can read a code out
of it. Appends are single `write` calls on a file opened in append mode, so concurrent API workers
never interleave two mails.
"""

from __future__ import annotations

import asyncio
import json
import os
import smtplib
import uuid
from dataclasses import dataclass
from email.message import EmailMessage

from core import clock
from core.settings import Settings, get_settings


@dataclass(frozen=True)
class Mail:
    """One mail: to whom, about what, its plain text, and its kind (for the dev mailbox's readers)."""

    to: str
    subject: str
    text: str
    kind: str


def _append(settings: Settings, mail: Mail) -> str:
    mail_id = uuid.uuid4().hex
    line = json.dumps({"id": mail_id, "at": clock.wall_now().isoformat(), "to": mail.to,
                       "subject": mail.subject, "text": mail.text, "kind": mail.kind}) + "\n"
    path = settings.mailbox_path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    return mail_id


def _smtp(settings: Settings, mail: Mail) -> str:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.mail_from, mail.to, mail.subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@bss-cli>"
    message.set_content(mail.text)
    with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user and settings.smtp_password:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        smtp.send_message(message)
    return str(message["Message-ID"])


def send_sync(mail: Mail, settings: Settings | None = None) -> str:
    """Send `mail` (blocking); return its id."""
    settings = settings or get_settings()
    return _smtp(settings, mail) if settings.smtp_host else _append(settings, mail)


async def send(mail: Mail, settings: Settings | None = None) -> str:
    """Send `mail` without blocking the event loop; return its id."""
    return await asyncio.to_thread(send_sync, mail, settings)
