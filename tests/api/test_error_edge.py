"""Bad input gets a TMF Error naming the problem: 400 malformed, 404 unknown, 405, 422 policy."""

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

from apis.errors import install_error_handlers
from core.errors import NotFound, PolicyViolation, Violation
from tests.support.http import serve

PING = "/bss-api/v1/diagnostics/ping"


@pytest.mark.parametrize(("body", "field"), [
    (b'{"note": ', "body"),                  # not JSON at all
    (b'{"note": 42}', "note"),               # wrong type
    (b'{"note": "x", "colour": "red"}', "colour"),  # unknown field on create
])
async def test_malformed_bodies_get_400_naming_the_field(api, body, field):
    response = await api.post(PING, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["@type"] == "Error" and error["code"] == "request.malformed" and error["status"] == "400"
    assert error["context"]["errors"][0]["field"] == field


async def test_unknown_route_gets_404_tmf_error(api):
    response = await api.get("/tmf-api/nothingHere/v4/thing/1")
    assert response.status_code == 404
    assert response.json()["code"] == "route.not_found"


async def test_wrong_method_gets_405_tmf_error(api):
    response = await api.get(PING)
    assert response.status_code == 405
    assert response.json()["@type"] == "Error"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_minor: int


def _app_raising() -> FastAPI:
    """A minimal app on the real error edge, with routes that raise each error kind."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/policy")
    async def policy(body: _Body) -> dict:
        raise PolicyViolation([
            Violation("payment_method.add.luhn_valid", "card number fails the Luhn check", {"last4": "4243"}),
            Violation("payment_method.add.at_most_5", "a customer has at most 5 cards", {"count": 5}),
        ])

    @app.get("/thing/{ident}")
    async def thing(ident: str) -> dict:
        raise NotFound("customer", ident)

    @app.get("/boom")
    async def boom() -> dict:
        raise RuntimeError("bug")

    @app.get("/outage")
    async def outage() -> dict:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    return app


async def test_policy_violation_is_422_with_rule_codes_and_context():
    async with serve(_app_raising()) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/policy", json={"amount_minor": 1})
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "payment_method.add.luhn_valid"
    assert error["status"] == "422" and error["reason"] == "Policy violation"
    assert error["context"] == {"last4": "4243"}
    assert [v["code"] for v in error["violations"]] == ["payment_method.add.luhn_valid",
                                                        "payment_method.add.at_most_5"]


async def test_not_found_and_unexpected_errors_keep_the_tmf_shape():
    async with serve(_app_raising()) as url, httpx.AsyncClient(base_url=url) as client:
        missing = await client.get("/thing/CUST-404")
        boom = await client.get("/boom")
    assert missing.status_code == 404 and missing.json()["code"] == "customer.not_found"
    assert boom.status_code == 500 and boom.json()["code"] == "internal.unexpected"
    assert "bug" not in boom.text, "internal details must not leak"


async def test_a_database_outage_is_503_to_retry_not_a_500():
    async with serve(_app_raising()) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/outage")
    assert response.status_code == 503 and response.headers["retry-after"] == "2"
    assert response.json()["code"] == "database.unavailable"
    assert "5432" not in response.text, "internal details must not leak"
