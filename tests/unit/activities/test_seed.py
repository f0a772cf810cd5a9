"""`bss seed` loads SPEC §3 exactly once: a rerun inserts nothing, changes nothing, overwrites nothing."""

import asyncio
import datetime as dt
import json

from sqlalchemy import func, select, text, update

from activities.seed import seed_reference_data
from domain import catalog as cat
from domain import crm, inventory, provisioning
from domain.audit import domain_event

REFERENCE_TABLES = (
    cat.catalog, cat.category, cat.catalog_category, cat.product_specification, cat.product_offering,
    cat.offering_category, cat.product_offering_price, cat.bundle_allowance, inventory.msisdn_range,
    inventory.msisdn, inventory.esim_profile, crm.agent, crm.ticket_sla, provisioning.fault_rule,
    provisioning.simulator_latency,
)


async def _scalar(db, statement):
    async with db.connect() as conn:
        return (await conn.execute(statement)).scalar_one()


async def _snapshot(db) -> dict[str, list[tuple]]:
    """Every row of every reference table and of the audit log, in key order."""
    async with db.connect() as conn:
        snapshot = {}
        for table in (*REFERENCE_TABLES, domain_event):
            rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
            snapshot[table.fullname] = [tuple(row) for row in rows]
        return snapshot


async def test_seed_loads_the_spec_reference_data(db):
    report = await seed_reference_data()

    counts = {d.dataset: d.inserted for d in report.datasets}
    # The handbook's sections are loaded too (tests/api/test_knowledge.py); their count is the document's.
    assert counts.pop("crm.knowledge_section") > 0
    assert counts == {
        "catalog.catalog": 1, "catalog.category": 2, "catalog.catalog_category": 2,
        "catalog.product_specification": 2, "catalog.product_offering": 7, "catalog.offering_category": 7,
        "catalog.product_offering_price": 7, "catalog.bundle_allowance": 16, "inventory.msisdn_range": 1,
        "inventory.msisdn": 1000, "inventory.esim_profile": 1000, "crm.agent": 9, "crm.ticket_sla": 20,
        "provisioning.fault_rule": 40, "provisioning.simulator_latency": 10,
    }
    assert report.changed and report.already_present == 0
    kinds = select(cat.product_offering.c.kind, func.count()).group_by(cat.product_offering.c.kind)
    async with db.connect() as conn:
        assert dict((await conn.execute(kinds)).all()) == {"plan": 3, "vas": 4}
        msisdn_states = select(inventory.msisdn.c.state, func.count()).group_by(inventory.msisdn.c.state)
        assert dict((await conn.execute(msisdn_states)).all()) == {"available": 1000}
        esim_states = select(inventory.esim_profile.c.state, func.count()).group_by(inventory.esim_profile.c.state)
        assert dict((await conn.execute(esim_states)).all()) == {"available": 1000}
        roles = select(crm.agent.c.role).distinct()
        assert set((await conn.execute(roles)).scalars()) == {"csr", "supervisor", "engineer", "system"}
        assert not (await conn.execute(select(func.bool_or(provisioning.fault_rule.c.enabled)))).scalar_one()
        lat = provisioning.simulator_latency
        latency = dict((await conn.execute(select(lat.c.task_type, lat.c.latency_ms))).all())
        assert (latency["HLR_PROVISION"], latency["PCRF_BLOCK"], latency["OCS_BALANCE_INIT"],
                latency["ESIM_PROFILE_PREPARE"]) == (200, 300, 400, 500)
        events = (await conn.execute(select(domain_event.c.event_type, domain_event.c.aggregate_id,
                                            domain_event.c.payload))).all()
    events = [e for e in events if e.event_type != "knowledge.handbook_loaded"]
    assert {e.aggregate_id for e in events} == set(counts)
    assert {e.event_type for e in events} == {"reference_data.seeded"}
    assert next(e.payload for e in events if e.aggregate_id == "inventory.msisdn") == {
        "inserted": 1000, "expected": 1000}


async def test_second_seed_inserts_nothing_and_changes_nothing(db):
    first = await seed_reference_data()
    before = await _snapshot(db)

    again = await seed_reference_data()

    assert not again.changed and again.inserted == 0
    assert again.already_present == first.inserted
    assert await _snapshot(db) == before  # reference tables and the audit log alike


async def test_reseed_fills_gaps_but_keeps_operator_changes(db):
    await seed_reference_data()
    async with db.begin() as conn:
        await conn.execute(update(provisioning.fault_rule).where(provisioning.fault_rule.c.id == "HLR_PROVISION.stuck")
                           .values(enabled=True, probability_pct=50))
        await conn.execute(text("DELETE FROM inventory.msisdn WHERE number = '90000042'"))

    report = await seed_reference_data()

    assert report.inserted == 1
    assert {d.dataset: d.inserted for d in report.datasets}["inventory.msisdn"] == 1
    rule = provisioning.fault_rule
    assert await _scalar(db, select(rule.c.enabled).where(rule.c.id == "HLR_PROVISION.stuck")) is True
    assert await _scalar(db, select(func.count()).select_from(inventory.msisdn)) == 1000


async def test_quantities_and_prices_are_exact(seeded_db):
    allowance, price, offering = cat.bundle_allowance, cat.product_offering_price, cat.product_offering
    async with seeded_db.connect() as conn:
        plan_m = dict((await conn.execute(select(allowance.c.allowance_type, allowance.c.quantity)
                                          .where(allowance.c.offering_id == "PLAN_M"))).all())
        price_m = (await conn.execute(select(price).where(price.c.offering_id == "PLAN_M"))).mappings().one()
        day_pass = (await conn.execute(select(offering).where(offering.c.id == "VAS_UNLIMITED_DAY"))).mappings().one()
        roaming = (await conn.execute(select(offering).where(offering.c.id == "VAS_ROAMING_1GB"))).mappings().one()
        vas_price = (await conn.execute(select(price).where(price.c.offering_id == "VAS_DATA_5GB"))).mappings().one()
    assert plan_m == {"data": 30720, "voice": -1, "sms": -1, "data_roaming": 500}
    assert (price_m["price_minor"], price_m["currency"], price_m["price_type"], price_m["recurring_period_days"]) == (
        2500, "SGD", "recurring", 30)
    assert price_m["valid_from"] == dt.datetime(2026, 1, 1, tzinfo=dt.UTC) and price_m["valid_to"] is None
    assert (vas_price["price_minor"], vas_price["price_type"], vas_price["recurring_period_days"]) == (
        1200, "one_time", None)
    assert (day_pass["vas_expiry"], day_pass["vas_duration_seconds"], day_pass["restores_data"]) == (
        "duration", 86400, True)
    assert (roaming["vas_expiry"], roaming["restores_data"]) == ("end_of_period", False)


async def test_esim_and_msisdn_identifiers_have_their_formats(seeded_db):
    esim, msisdn = inventory.esim_profile, inventory.msisdn
    async with seeded_db.connect() as conn:
        bad_formats = (await conn.execute(select(func.count()).select_from(esim).where(
            ~esim.c.iccid.regexp_match(r"^8910101\d{12}$") | ~esim.c.imsi.regexp_match(r"^525010000\d{6}$")
            | (esim.c.smdp_address != "smdp.bss-cli.local")))).scalar_one()
        distinct = (await conn.execute(select(func.count(esim.c.iccid.distinct()), func.count(esim.c.imsi.distinct()),
                                              func.count(esim.c.matching_id.distinct())))).one()
        numbers = (await conn.execute(select(func.min(msisdn.c.number), func.max(msisdn.c.number),
                                             func.count(msisdn.c.number.distinct())))).one()
    assert bad_formats == 0
    assert tuple(distinct) == (1000, 1000, 1000)
    assert tuple(numbers) == ("90000000", "90000999", 1000)


async def test_bss_seed_json_reports_inserted_then_already_present(db):
    from typer.testing import CliRunner

    from cli.main import app

    runner = CliRunner()
    # The command runs its own event loop, as `bss seed` does; a thread keeps it off the test's loop.
    first = await asyncio.to_thread(runner.invoke, app, ["seed", "--json"], catch_exceptions=False)
    second = await asyncio.to_thread(runner.invoke, app, ["seed", "--json"], catch_exceptions=False)
    human = await asyncio.to_thread(runner.invoke, app, ["seed"], catch_exceptions=False)

    assert first.exit_code == second.exit_code == human.exit_code == 0, first.output + second.output + human.output
    first_report, second_report = json.loads(first.stdout), json.loads(second.stdout)
    total = sum(d["expected"] for d in first_report["datasets"])
    assert first_report["changed"] is True and first_report["inserted"] == total > 2000
    assert second_report["changed"] is False and second_report["inserted"] == 0
    assert second_report["already_present"] == total
    assert {d["dataset"]: d["already_present"] for d in second_report["datasets"]}["inventory.msisdn"] == 1000
    assert "already present" in human.stdout and "inventory.esim_profile" in human.stdout
    assert await _scalar(db, select(func.count()).select_from(inventory.esim_profile)) == 1000


async def test_bss_seed_on_an_unmigrated_database_says_to_migrate(pg_server):
    from typer.testing import CliRunner

    from cli.main import app
    from core import db as core_db

    name = await pg_server.create_database(prefix="unmigrated")
    engine = core_db.make_engine(pg_server.sqlalchemy_url(name))
    core_db.use_engine(engine)
    try:
        result = await asyncio.to_thread(CliRunner().invoke, app, ["seed", "--json"])
    finally:
        core_db.use_engine(None)
        await engine.dispose()
        await pg_server.drop_database(name)
    assert result.exit_code == 1
    assert result.stdout == "" and "bss migrate" in result.stderr
