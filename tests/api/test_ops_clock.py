"""The scenario clock endpoints outside scenario mode: read-only, and an advance is refused with no write.

(Scenario mode itself is exercised on a real `bss up --time-skipping` stack in tests/e2e/test_scenario_time.py.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

CLOCK = "/ops-api/v1/clock"


async def _writes(db) -> tuple[int, int]:  # noqa: ANN001
    async with db.connect() as conn:
        events = (await conn.execute(text("SELECT count(*) FROM audit.domain_event"))).scalar_one()
        offsets = (await conn.execute(text("SELECT count(*) FROM audit.clock_offset"))).scalar_one()
    return events, offsets


async def test_clock_reads_real_time_with_no_offset(api):
    body = (await api.get(CLOCK)).json()
    assert body["timeSkipping"] is False and body["offsetSeconds"] == 0 and body["offset"] == "0s"
    now = datetime.fromisoformat(body["now"])
    assert now == datetime.fromisoformat(body["wallClock"])
    assert abs(now - datetime.now(now.tzinfo)) < timedelta(minutes=1)


async def test_advance_is_refused_outside_scenario_mode_and_writes_nothing(api, db, bss):
    before = await _writes(db)
    response = await api.post(f"{CLOCK}/advance", json={"duration": "30d"})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "clock.advance.requires_time_skipping"

    result = await bss("clock", "advance", "30d")
    assert result.exit_code == 2 and "clock.advance.requires_time_skipping" in result.output
    assert await _writes(db) == before
    assert (await api.get(CLOCK)).json()["offsetSeconds"] == 0


async def test_malformed_advances_are_400_naming_the_field(api):
    for body in ({"duration": "30x"}, {"duration": "12h1d"}, {}, {"duration": "30d", "extra": 1},
                 {"duration": "30d", "timeoutSeconds": 0}):
        response = await api.post(f"{CLOCK}/advance", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["code"] == "request.malformed"


async def test_cli_clock_now_prints_the_apis_json(api, bss):
    result = await bss("clock", "now", "--json")
    assert result.exit_code == 0, result.output
    assert '"timeSkipping": false' in result.output and '"offset": "0s"' in result.output
