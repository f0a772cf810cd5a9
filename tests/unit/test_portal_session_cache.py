"""The portals' session cache: kept for its TTL, dropped by any write to the session."""

from __future__ import annotations

import time

from portals.session import SessionCache


def test_a_read_is_kept_for_its_ttl_only():
    cache = SessionCache(ttl=0.05)
    cache.put("tok", {"kind": "customer"})
    assert cache.get("tok") == {"kind": "customer"} and cache.get("other") is None
    time.sleep(0.06)
    assert cache.get("tok") is None


def test_writes_to_the_session_evict_it_and_reads_or_other_sessions_do_not():
    cache = SessionCache(ttl=60)
    for token in ("a-token", "b-token"):
        cache.put(token, {"kind": "customer"})
    cache.evict_on_write("GET", "/portal-api/v1/session/a-token")
    cache.evict_on_write("POST", "/tmf-api/productOrderingManagement/v4/productOrder")
    assert cache.get("a-token") is not None
    cache.evict_on_write("POST", "/portal-api/v1/session/a-token/step-up/verify")
    assert cache.get("a-token") is None and cache.get("b-token") is not None
    cache.evict_on_write("DELETE", "/portal-api/v1/session/b-token")
    assert cache.get("b-token") is None


def test_a_zero_ttl_keeps_nothing():
    cache = SessionCache(ttl=0)
    cache.put("tok", {"kind": "customer"})
    assert cache.get("tok") is None
