"""What the create-order rules see, read in one statement: customer, active cards, requested number."""

from __future__ import annotations

from sqlalchemy import text

from activities.ordering import NewOrder, load_order_facts

CUSTOMER = "CUST-000777"


async def _customer_with_cards(conn) -> None:
    required = (await conn.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'crm'"
        " AND table_name = 'customer' AND is_nullable = 'NO' AND column_default IS NULL"))).scalars().all()
    values = {c: f"test-{c}" for c in required} | {"id": CUSTOMER}
    await conn.execute(text(f"INSERT INTO crm.customer ({', '.join(values)}, status) VALUES"
                            f" ({', '.join(':' + c for c in values)}, 'active')"), values)
    for n, state in enumerate(("active", "removed", "active")):
        await conn.execute(text(
            "INSERT INTO payment.payment_method (id, customer_id, name, brand, last4, exp_month, exp_year,"
            " gateway_token, state) VALUES (:id, :c, 'card', 'visa', '4242', 12, 2030, 'tok', :s)"),
            {"id": f"PM-77{n}", "c": CUSTOMER, "s": state})


async def test_facts_of_a_known_and_an_unknown_customer(seeded_db):
    async with seeded_db.connect() as conn:
        await _customer_with_cards(conn)
        taken = (await conn.execute(text("SELECT number FROM inventory.msisdn ORDER BY number LIMIT 1"))).scalar_one()
        await conn.execute(text("UPDATE inventory.msisdn SET state = 'reserved', reserved_for = 'ORD-X'"
                                " WHERE number = :n"), {"n": taken})
        known = await load_order_facts(conn, NewOrder(customer_id=CUSTOMER, offering_id="PLAN_M",
                                                      requested_msisdn=taken), sellable=True)
        assert (known.customer_status, known.active_cards, known.requested_msisdn_state) == (
            "active", 2, "reserved")
        plain = await load_order_facts(conn, NewOrder(customer_id=CUSTOMER, offering_id="PLAN_M"), sellable=True)
        assert (plain.active_cards, plain.requested_msisdn_state) == (2, None)
        unknown = await load_order_facts(conn, NewOrder(customer_id="CUST-999999", offering_id="PLAN_M",
                                                        requested_msisdn=taken), sellable=False)
        assert (unknown.customer_status, unknown.kyc_status, unknown.active_cards,
                unknown.requested_msisdn_state) == (None, None, 0, "reserved")
        await conn.rollback()
