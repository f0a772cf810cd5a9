"""Request size limits at the edge: the body in the app (413), the request head in the HTTP server (431).

Without them a client could make a process buffer any amount: uvicorn hands over a body of any size
and httptools keeps a header line of any length in memory until it ends.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from apis.errors import tmf_error

BODY_TOO_LARGE = "request.body_too_large"


class BodyTooLarge(HTTPException):
    """A request body over the limit, found while it streams in (an HTTP exception, so FastAPI lets it through)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body is larger than {max_bytes} bytes")


def body_too_large(max_bytes: int) -> object:
    """The TMF `Error` answering a body over `max_bytes`."""
    return tmf_error(413, BODY_TOO_LARGE, "Content too large",
                     f"the request body is larger than {max_bytes} bytes", context={"maxBytes": max_bytes})


class BodyLimit:
    """Refuse a request body over `max_bytes`: by its Content-Length before reading it, else as it streams."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.max_bytes:
            await body_too_large(self.max_bytes)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the endpoint's body read: the error handlers answer it (apis/errors.py).
                    raise BodyTooLarge(self.max_bytes)
            return message

        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except BodyTooLarge:
            if started:
                raise
            await body_too_large(self.max_bytes)(scope, receive, send)


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0  # the server refuses a malformed length before the app sees it
    return 0


def header_limited_protocol(max_bytes: int) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol refusing a request head (request line and headers) over `max_bytes` with 431."""

    class HeaderLimitedHttpTools(HttpToolsProtocol):
        _head_bytes = 0  # the request line and headers parsed so far
        _raw_bytes = 0  # the bytes read while the head was incomplete (it includes an unfinished line)
        _in_head = False
        _between = True  # no message under way: the next bytes start one
        _refused = False

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            head_or_idle = self._in_head or self._between
            super().data_received(data)
            # Bytes that began in a head (or between messages) and end with the head still incomplete are
            # head bytes; httptools buffers an unfinished header line, so it is counted here, not only in
            # the callbacks. (Bytes of a message that ended in the same read count too: only pipelining does that.)
            if head_or_idle and self._in_head:
                self._raw_bytes += len(data)
                self._refuse_if_over()

        def on_message_begin(self) -> None:
            self._in_head, self._between, self._head_bytes, self._raw_bytes = True, False, 0, 0
            super().on_message_begin()

        def on_message_complete(self) -> None:
            self._between = True
            super().on_message_complete()

        def on_url(self, url: bytes) -> None:
            self._head_bytes += len(url)
            if self._refuse_if_over():
                raise HeadTooLarge  # stops the parser
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._head_bytes += len(name) + len(value) + 4  # ": " and CRLF
            if self._refuse_if_over():
                raise HeadTooLarge
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        def send_400_response(self, msg: str) -> None:
            if not self._refused:  # our 431 already went out (the parser stopped on HeadTooLarge)
                super().send_400_response(msg)

        def _refuse_if_over(self) -> bool:
            if self._refused:
                return True
            if max(self._head_bytes, self._raw_bytes) <= max_bytes:
                return False
            self._refused = True
            # Refused in a parser callback, uvicorn then logs "Invalid HTTP request received.": say why first.
            self.logger.warning("Request head over %d bytes: refused with 431.", max_bytes)
            message = b"Request header fields too large"
            self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; "
                                 b"charset=utf-8\r\ncontent-length: " + str(len(message)).encode()
                                 + b"\r\nconnection: close\r\n\r\n" + message)
            self.transport.close()
            return True

    HeaderLimitedHttpTools.__name__ = f"HeaderLimitedHttpTools{max_bytes}"
    return HeaderLimitedHttpTools


class HeadTooLarge(Exception):
    """Stops httptools' parser once the head is refused."""
