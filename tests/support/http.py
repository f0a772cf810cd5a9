"""Serve an ASGI app over real TCP inside the test event loop (core/inloop_http.py)."""

from __future__ import annotations

from core.inloop_http import free_port, serve

__all__ = ["free_port", "serve"]
