"""Request size limits over real sockets: a body over the limit is 413 (nothing read on, nothing written), a
request head over the limit is 431 from the server itself (apis/limits.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest_asyncio
from sqlalchemy import text

from apis.limits import header_limited_protocol
from core.settings import get_settings
from tests.conftest import TEST_TOKENS

CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
LIMIT = get_settings().request_max_body_bytes
HEAD_LIMIT = get_settings().request_max_header_bytes


async def _audit_rows(db) -> int:
    async with db.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM audit.domain_event"))).scalar_one()


def _assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["@type"] == "Error" and body["status"] == "413"
    assert body["code"] == "request.body_too_large", body


async def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(api, db) -> None:
    before = await _audit_rows(db)
    padding = "x" * LIMIT
    response = await api.post(CUSTOMERS, json={"givenName": "A", "familyName": "B", "note": padding})
    _assert_too_large(response)
    # Even without a token: the body is refused before the perimeter would read anything.
    async with httpx.AsyncClient(base_url=str(api.base_url)) as anonymous:
        _assert_too_large(await anonymous.post(CUSTOMERS, content=b"{" + b" " * LIMIT + b"}",
                                               headers={"content-type": "application/json"}))
    assert await _audit_rows(db) == before


async def test_a_streamed_body_is_cut_off_at_the_limit(api, db) -> None:
    before = await _audit_rows(db)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked transfer
        yield b'{"givenName": "'
        for _ in range(4 * LIMIT // 65536):
            yield b"x" * 65536
        yield b'"}'

    response = await api.post(CUSTOMERS, content=chunks(), headers={"content-type": "application/json"})
    _assert_too_large(response)
    assert await _audit_rows(db) == before


async def test_a_body_under_the_limit_is_read_as_usual(api) -> None:
    response = await api.post(CUSTOMERS, content=b"[" + b" " * (LIMIT - 2) + b"]",
                              headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == "request.malformed"


@pytest_asyncio.fixture(scope="module")
async def limited_url(temporal_env) -> AsyncIterator[str]:
    """The API served with the protocol `python -m apis.main` uses (httptools refusing large heads)."""
    from apis.app import create_app
    from tests.support.http import serve

    async with serve(create_app(temporal_client=temporal_env.client),
                     http=header_limited_protocol(HEAD_LIMIT)) as url:
        yield url


async def _raw(url: str, request: bytes, pieces: int = 1, gap: float = 0) -> bytes:
    """Send `request` over a fresh connection (in `pieces` writes, `gap` s apart) and read the answer."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        step = -(-len(request) // pieces)
        for start in range(0, len(request), step):
            writer.write(request[start:start + step])
            await writer.drain()
            if gap:
                await asyncio.sleep(gap)  # a slow client: the server reads the head in many pieces
        return await asyncio.wait_for(reader.read(65536), 10)
    except ConnectionResetError:  # the server answered and closed while we were still writing
        return b""
    finally:
        writer.close()


def _get(path: str, **headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: test", f"X-BSS-API-Token: {TEST_TOKENS['cli']}", "Connection: close",
             *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_a_request_head_over_the_limit_is_431(limited_url: str) -> None:
    # One huge header, sent in one piece and in 64 pieces (httptools buffers an unfinished header line).
    for pieces in (1, 64):
        answer = await _raw(limited_url, _get("/health", **{"X-Padding": "p" * (HEAD_LIMIT + 1)}), pieces)
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    # A header line that never ends is refused once it passes the limit, not buffered on.
    endless = b"GET /health HTTP/1.1\r\nHost: test\r\nX-Padding: " + b"p" * (2 * HEAD_LIMIT)
    assert (await _raw(limited_url, endless, 32)).startswith(b"HTTP/1.1 431 ")
    # Many headers under the limit each, over it together; and a request line over it.
    many = {f"X-Pad-{i}": "p" * 1000 for i in range(HEAD_LIMIT // 1000 + 2)}
    assert (await _raw(limited_url, _get("/health", **many))).startswith(b"HTTP/1.1 431 ")
    assert (await _raw(limited_url, _get("/health?q=" + "a" * HEAD_LIMIT))).startswith(b"HTTP/1.1 431 ")


async def test_a_request_head_under_the_limit_is_served(limited_url: str, db) -> None:
    answer = await _raw(limited_url, _get("/tmf-api/customerManagement/v4/customer?limit=1",
                                          **{"X-Padding": "p" * (HEAD_LIMIT - 1024)}))
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
    slow = await _raw(limited_url, _get("/health", **{"X-Padding": "p" * (HEAD_LIMIT * 3 // 4)}), 16, 0.002)
    assert slow.startswith(b"HTTP/1.1 200 "), slow[:300]
    # The connection serves a second request after a large body: body bytes are not counted as head.
    async with httpx.AsyncClient(base_url=limited_url, headers={"X-BSS-API-Token": TEST_TOKENS["cli"]}) as client:
        first = await client.post(CUSTOMERS, content=b"[" + b" " * (LIMIT // 2) + b"]",
                                  headers={"content-type": "application/json"})
        second = await client.get("/health")
    assert first.status_code == 400 and second.status_code == 200


async def test_the_portals_refuse_a_body_over_the_limit_too(api_url: str, db) -> None:
    from portals.csr.app import create_app as csr_app
    from portals.self_serve.app import create_app as self_serve_app
    from tests.support.http import serve

    for make in (self_serve_app, csr_app):
        async with serve(make(api_url)) as url, httpx.AsyncClient(base_url=url) as browser:
            declared = await browser.post("/login", data={"email": "a@example.com", "pad": "x" * LIMIT})
            assert declared.status_code == 413, declared.text[:200]

            async def chunks() -> AsyncIterator[bytes]:
                yield b"email=a%40example.com&pad="
                for _ in range(2 * LIMIT // 65536):
                    yield b"x" * 65536

            streamed = await browser.post("/login", content=chunks(),
                                          headers={"content-type": "application/x-www-form-urlencoded"})
            assert streamed.status_code == 413, streamed.text[:200]
