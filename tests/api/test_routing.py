"""Routing: every route is still reached through its router's prefix check (BssRouter)."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from apis.app import routers
from apis.routing import BssRouter


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "ROUTE-CHECK-1", path)


async def test_every_route_is_matched_through_its_prefix(api):
    checked = 0
    for router in routers():
        assert isinstance(router, BssRouter)
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            assert route.path.startswith(router.prefix), route.path
            # TRACE is served by no route: 405 means routing found this path, 404 that it did not.
            response = await api.request("TRACE", _concrete(route.path))
            assert response.status_code == 405, (route.path, response.status_code, response.text)
            assert response.json()["code"] == "route.method_not_allowed"
            checked += 1
    assert checked > 80  # every API module has routes


async def test_a_path_under_a_known_prefix_but_no_route_is_a_tmf_404(api):
    response = await api.get("/tmf-api/customerManagement/v4/no-such-resource")
    assert response.status_code == 404 and response.json()["code"] == "route.not_found"
