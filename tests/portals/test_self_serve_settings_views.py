"""The account settings' pure parts: what a card, a bill and an eSIM code look like on the page, form checks.

No stack needed: these are the mappings from API bodies to page rows and the checks made before
anything is sent (a card form with a wrong field is answered without calling the API).
"""

from __future__ import annotations

import re

import pytest
import segno

from portals.esim_qr import parse_lpa, qr_svg
from portals.self_serve.bills import bill_of, lines_of, minor
from portals.self_serve.cards import card_form_errors, card_of
from portals.self_serve.profile import details_errors, profile_of


def test_a_card_shows_its_brand_last_four_and_the_expiry_people_read_off_the_card():
    card = card_of({"id": "PM-7", "brand": "visa", "lastFourDigits": "4242", "isPreferred": True,
                    "expirationDate": "2035-12-31T23:59:59Z", "nameOnCard": "Mei Tan"})
    assert (card.label, card.expires, card.default, card.name) == ("Visa ending 4242", "12/35", True, "Mei Tan")
    assert card_of({"id": "PM-8", "brand": "mastercard", "lastFourDigits": "4444",
                    "expirationDate": "2030-01-31T23:59:59Z"}).expires == "01/30"


@pytest.mark.parametrize(("form", "bad"), [
    ({"number": "4242 4242 4242 4242", "exp": "12/35"}, set()),
    ({"number": "4242-4242-4242-4242", "exp": "1/2035", "cvv": "123", "name": "Mei"}, set()),
    ({"number": "", "exp": "12/35"}, {"number"}),
    ({"number": "4242abcd42424242", "exp": "12/35"}, {"number"}),
    ({"number": "４２４２４２４２４２４２４２４２", "exp": "１２/３５"}, {"number", "exp"}),  # digits, but not ASCII
    ({"number": "4242424242424242", "exp": "13/35"}, {"exp"}),
    ({"number": "4242424242424242", "exp": "2035-12"}, {"exp"}),
    ({"number": "4242424242424242", "exp": "12/35", "cvv": "12a"}, {"cvv"}),
])
def test_the_card_form_names_each_field_a_person_must_fix(form, bad):
    errors = card_form_errors(form)
    assert set(errors) == bad
    # The message never repeats what was typed (a card number is never echoed).
    assert not any(form["number"] and form["number"] in message for message in errors.values())


def test_a_bill_keeps_its_exact_amount_in_minor_units():
    # 0.1 + 0.2 style floats on the wire: rounding, not truncation, gives back the minor units charged.
    assert minor({"unit": "SGD", "value": 10.29}) == (1029, "SGD")
    assert minor({"unit": "SGD", "value": 0.57}) == (57, "SGD")
    bill = bill_of({"id": "BILL-3", "billDate": "2026-03-04T09:30:00Z", "category": "vas",
                    "taxIncludedAmount": {"unit": "SGD", "value": 15.0},
                    "billingPeriod": {"startDateTime": "2026-03-04T09:30:00Z", "endDateTime": "2026-03-31T09:30:00Z"},
                    "paymentMethod": {"id": "PM-1", "name": "visa •••• 4242"}})
    assert (bill.date, bill.what, bill.total, bill.period, bill.paid_with) == (
        "4 Mar 2026", "Add-on or top-up", "SGD 15.00", "4 Mar 2026 – 31 Mar 2026", "visa •••• 4242")
    lines = lines_of([{"description": "Data Top-Up 1GB", "taxIncludedAmount": {"unit": "SGD", "value": 3.0}}])
    assert [(line.description, line.amount) for line in lines] == [("Data Top-Up 1GB", "SGD 3.00")]


def test_the_contact_details_come_from_the_summary_and_names_cannot_be_emptied():
    profile = profile_of({"customer": {"givenName": "Mei", "familyName": "Tan"},
                          "contacts": [{"mediumType": "email", "value": "mei@example.com"},
                                       {"mediumType": "mobile", "value": "+65 9123 4567"}]})
    assert (profile.given, profile.family, profile.email, profile.phone) == ("Mei", "Tan", "mei@example.com",
                                                                             "+65 9123 4567")
    assert set(details_errors({"given": "", "family": "Tan", "phone": "call me"})) == {"given", "phone"}
    assert details_errors({"given": "Mei", "family": "Tan", "phone": "+65 9123 4567"}) == {}


def test_an_lpa_code_splits_into_what_a_person_types_and_anything_else_is_refused():
    code = parse_lpa("LPA:1$smdp.bss.example$K2-1Q2W3E-4R5T6Y")
    assert (code.smdp_address, code.matching_id) == ("smdp.bss.example", "K2-1Q2W3E-4R5T6Y")
    for bad in ("", "LPA:1$", "LPA:1$host$", "http://evil.example/"):
        with pytest.raises(ValueError):
            parse_lpa(bad)


def test_the_qr_is_an_inline_titled_svg_of_exactly_the_activation_code():
    text = "LPA:1$smdp.bss.example$K2-1Q2W3E-4R5T6Y"
    svg = str(qr_svg(text, title="eSIM for <8888 0001>"))
    assert svg.startswith('<svg role="img"') and "<title>eSIM for &lt;8888 0001&gt;</title>" in svg
    # The drawing is segno's matrix of this text: same size as the symbol plus the quiet zone.
    size = len(segno.make(text, error="m", micro=False).matrix) + 8
    assert re.search(rf'viewBox="0 0 {size} {size}"', svg)
    assert qr_svg(text) != qr_svg(text + "X")
