"""Health probes cheap enough to run every 50 ms: a TCP connect, a raw HTTP/1.1 GET, a file read.

They use plain sockets rather than an HTTP client library: `bss up` and `bss status` must not
pay for importing one, and a probe needs nothing but a status line.
"""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

# Wildcard bind addresses are not connectable; probe the loopback of the same family instead.
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


def connect_host(host: str) -> str:
    """Return the address a probe should connect to for a server bound to `host`."""
    return _WILDCARDS.get(host, host)


def tcp_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((connect_host(host), port), timeout=timeout_s):
            return True
    except OSError:
        return False


def http_status(host: str, port: int, path: str = "/health", timeout_s: float = 1.0) -> int | None:
    """Return the HTTP status of `GET path`, or None when nothing answers."""
    target = connect_host(host)
    request = (f"GET {path} HTTP/1.1\r\nHost: {target}:{port}\r\nConnection: close\r\n"
               "User-Agent: bss-supervisor\r\n\r\n").encode()
    try:
        with socket.create_connection((target, port), timeout=timeout_s) as sock:
            sock.sendall(request)
            head = b""
            while b"\r\n" not in head and len(head) < 1024:
                chunk = sock.recv(1024)
                if not chunk:
                    break
                head += chunk
    except OSError:
        return None
    parts = head.split(b"\r\n", 1)[0].split()
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None


def http_ok(host: str, port: int, path: str = "/health") -> bool:
    """True when `GET path` answers 200."""
    return http_status(host, port, path) == 200


def file_holds_pid(path: Path, pid: int | None) -> bool:
    """True when `path` exists and contains exactly `pid` (the worker's readiness file)."""
    if pid is None:
        return False
    try:
        return path.read_text().strip() == str(pid)
    except OSError:
        return False


def host_port(address: str, default_port: int) -> tuple[str, int]:
    """Split `host:port` (or a URL) into its parts."""
    parts = urlsplit(address if "//" in address else f"//{address}")
    return parts.hostname or "127.0.0.1", parts.port or default_port
