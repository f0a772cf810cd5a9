"""core/mailer.py: the dev mailbox file, and SMTP when a host is configured (a tiny SMTP listener stands in)."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from email import message_from_bytes
from typing import ClassVar

import pytest

from core import mailer
from core.settings import get_settings


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP to take one message: greet, EHLO, MAIL, RCPT, DATA, QUIT."""

    received: ClassVar[list[tuple[str, list[str], bytes]]] = []

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._say("220 test ESMTP")
        sender, rcpts = "", []
        while line := self.rfile.readline():
            verb = line.decode().strip().upper()
            if verb.startswith(("EHLO", "HELO")):
                self._say("250 test")
            elif verb.startswith("MAIL FROM"):
                sender = line.decode().split(":", 1)[1].strip()
                self._say("250 ok")
            elif verb.startswith("RCPT TO"):
                rcpts.append(line.decode().split(":", 1)[1].strip())
                self._say("250 ok")
            elif verb == "DATA":
                self._say("354 go on")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk
                type(self).received.append((sender, rcpts, data))
                self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("250 ok")


@pytest.fixture
def smtp_server() -> Iterator[int]:
    _Smtp.received.clear()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_without_smtp_a_mail_is_one_json_line_in_the_dev_mailbox(tmp_path):
    settings = get_settings().model_copy(update={"mailbox": tmp_path / "box.jsonl", "smtp_host": None})
    first = mailer.send_sync(mailer.Mail("a@example.com", "Hi", "code 123456", "login_code"), settings)
    mailer.send_sync(mailer.Mail("b@example.com", "Yo", "text", "step_up_code"), settings)
    lines = [json.loads(line) for line in (tmp_path / "box.jsonl").read_text().splitlines()]
    assert [m["to"] for m in lines] == ["a@example.com", "b@example.com"] and lines[0]["id"] == first
    assert lines[0]["kind"] == "login_code" and lines[0]["text"] == "code 123456"


def test_with_an_smtp_host_the_mail_goes_there_and_not_to_the_file(tmp_path, smtp_server):
    settings = get_settings().model_copy(update={
        "mailbox": tmp_path / "box.jsonl", "smtp_host": "127.0.0.1", "smtp_port": smtp_server, "smtp_starttls": False})
    mailer.send_sync(mailer.Mail("c@example.com", "Your code", "Your code is 654321.", "login_code"), settings)
    assert not (tmp_path / "box.jsonl").exists()
    ((sender, rcpts, data),) = _Smtp.received
    message = message_from_bytes(data)
    assert rcpts == ["<c@example.com>"] and "no-reply@bss-cli.local" in sender
    assert message["Subject"] == "Your code" and "654321" in message.get_payload()
