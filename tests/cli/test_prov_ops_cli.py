"""`bss prov latency …` (PUT /provisioning-api/v1/latency) through the real API (#14: every write has a command)."""

from __future__ import annotations

import json


async def run_json(bss, *args: str):
    result = await bss(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_latency_set_for_a_task_type_and_for_an_element(seeded_api, bss):
    (one,) = await run_json(bss, "prov", "latency", "set", "250", "--type", "hlr_provision")
    assert (one["taskType"], one["element"], one["latencyMs"]) == ("HLR_PROVISION", "HLR", 250)
    pcrf = await run_json(bss, "prov", "latency", "set", "1200", "--element", "PCRF")
    assert len(pcrf) >= 2 and {r["element"] for r in pcrf} == {"PCRF"} and {r["latencyMs"] for r in pcrf} == {1200}
    listed = {r["taskType"]: r["latencyMs"] for r in await run_json(bss, "prov", "latency", "list")}
    assert listed["HLR_PROVISION"] == 250 and all(listed[r["taskType"]] == 1200 for r in pcrf)
    table = await bss("prov", "latency", "list")
    assert table.exit_code == 0 and "HLR_PROVISION" in table.stdout and "1,200 ms" in table.stdout
    shown = await bss("prov", "latency", "set", "0", "--element", "sm-dp+")
    assert shown.exit_code == 0 and "SM-DP+" in shown.stdout and "0 ms" in shown.stdout


async def test_latency_set_needs_exactly_one_target(seeded_api, bss):
    neither = await bss("prov", "latency", "set", "100")
    assert neither.exit_code == 2 and "exactly one of --type and --element" in neither.output
    both = await bss("prov", "latency", "set", "100", "--type", "HLR_PROVISION", "--element", "HLR")
    assert both.exit_code == 2 and "exactly one" in both.output
    unknown = await bss("prov", "latency", "set", "100", "--type", "HLR_EXPLODE", "--json")
    assert unknown.exit_code == 2 and json.loads(unknown.stdout)["code"] == "request.malformed"
    too_slow = await bss("prov", "latency", "set", "600001", "--element", "OCS")
    assert too_slow.exit_code == 2 and "--latency-ms" in too_slow.output
