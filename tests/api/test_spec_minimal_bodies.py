"""Accept what the spec accepts (#17 item 2): the minimal official `*_Create` body of every TMF POST.

For every POST create route of the app (walked with `apis.app.api_routes`), the table below holds the
body made of the `required` properties of its official v4 `*_Create` schema only, with values that fit
our seeded data where an id is needed. Each body is first checked to be exactly that (valid against the
schema, no optional property), then posted: the answer is 201/200/202, or 422 with a rule code documented
in docs/RULE_CODES.md — never 400 (the schema accepts it) and never 500.

Routes whose minimal body needs something out of this slice (a new resource, another owner's router) are
in `KNOWN_GAPS` with the reason; that dict must name routes that exist, so it cannot go stale, and a route
that is neither in the table nor a known gap fails the coverage test.

For the routes of this slice (TMF683 partyInteraction, TMF676 payment and refund, TMF621 troubleTicket),
each optional top-level property of the `*_Create` schema is also probed alone, on a body that is
otherwise accepted: it is defaulted, ignored (server-set) or refused with a documented 422, never 400.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import httpx
import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from apis.app import api_routes, create_app
from core.settings import REPO_ROOT, get_settings
from domain.events import SPEC_FILES as HUB_SPEC_FILES
from tests.support.factories import order_body, ready_customer

TMF = "/tmf-api"


@lru_cache(maxsize=1)
def post_routes() -> frozenset[str]:
    """Every POST route under /tmf-api/ that creates a resource (201/200/202)."""
    return frozenset(r.path for r in api_routes(create_app()) if "POST" in r.methods and r.path.startswith(TMF)
                     and (r.status_code or 200) in (200, 201, 202))


@dataclass
class Ctx:
    """Seeded data the minimal bodies refer to, made on first use."""

    api: httpx.AsyncClient
    made: dict[str, str] = field(default_factory=dict)

    async def customer(self) -> str:
        if "customer" not in self.made:
            self.made["customer"] = await ready_customer(self.api)
        return self.made["customer"]

    async def individual(self) -> str:
        if "individual" not in self.made:
            made = await self.api.post(f"{TMF}/party/v4/individual", json={"givenName": "Ana", "familyName": "Lim"})
            assert made.status_code == 201, made.text
            self.made["individual"] = made.json()["id"]
        return self.made["individual"]

    async def card(self) -> str:
        customer = await self.customer()
        methods = await self.api.get(f"{TMF}/paymentMethod/v4/paymentMethod", params={"relatedParty.id": customer})
        return methods.json()[0]["id"]

    async def payment(self) -> str:
        made = await self.api.post(f"{TMF}/paymentManagement/v4/payment", json={
            "account": {"id": await self.customer()}, "paymentMethod": {"id": await self.card()},
            "totalAmount": {"unit": "SGD", "value": 5}})
        assert made.status_code == 201, made.text
        return made.json()["id"]

    async def order(self) -> str:
        made = await self.api.post(f"{TMF}/productOrderingManagement/v4/productOrder",
                                   json=order_body(await self.customer()))
        assert made.status_code == 201, made.text
        return made.json()["id"]


Body = Callable[[Ctx], Awaitable[dict[str, Any]]]


Outcome = tuple[int, str | None]  # (HTTP status, rule code of a 422)
CREATED: Outcome = (201, None)


@dataclass(frozen=True)
class Case:
    """One body for one route: its `*_Create` definition, the body, and the outcomes it may have.

    The body holds the schema's required properties, plus `extra` ones (optional in the spec) when the
    case shows what our domain needs on top; the minimal case of a route has no extra.
    """

    route: str
    spec: str
    definition: str
    body: Body
    expect: frozenset[Outcome]
    label: str = "minimal"
    extra: frozenset[str] = frozenset()


async def _interaction(ctx: Ctx) -> dict[str, Any]:
    # TimePeriod has no required attribute: `{}` is the spec's minimal interactionDate.
    return {"interactionDate": {}, "reason": "asked about roaming", "status": "completed", "direction": "inbound",
            "channel": [{"id": "phone", "href": "urn:bss-cli:channel:phone"}]}


async def _interaction_of_customer(ctx: Ctx) -> dict[str, Any]:
    customer = await ctx.customer()
    return await _interaction(ctx) | {"relatedParty": [
        {"id": customer, "href": f"{TMF}/customerManagement/v4/customer/{customer}", "@referredType": "Customer"}]}


async def _payment(ctx: Ctx) -> dict[str, Any]:
    # Money has no required attribute: a value without a unit is in the default currency.
    return {"account": {"id": await ctx.customer()}, "paymentMethod": {"id": await ctx.card()},
            "totalAmount": {"value": 5}}


async def _payment_without_value(ctx: Ctx) -> dict[str, Any]:
    return {"account": {"id": await ctx.customer()}, "paymentMethod": {"id": await ctx.card()}, "totalAmount": {}}


async def _refund(ctx: Ctx) -> dict[str, Any]:
    # Refund_Create does not require `payment`; we cannot guess which payment to refund.
    return {"account": {"id": await ctx.customer()}, "paymentMethod": {"id": await ctx.card()},
            "totalAmount": {"value": 1}}


async def _refund_of_payment(ctx: Ctx) -> dict[str, Any]:
    return await _refund(ctx) | {"payment": {"id": await ctx.payment()}}


async def _ticket(ctx: Ctx) -> dict[str, Any]:
    # Severity is free text in the spec; relatedParty is optional there, but a ticket needs its customer.
    return {"description": "no data since this morning", "severity": "Urgent", "ticketType": "network"}


async def _ticket_of_customer(ctx: Ctx) -> dict[str, Any]:
    return await _ticket(ctx) | {"relatedParty": [{"id": await ctx.customer(), "@referredType": "Customer"}]}


async def _individual(ctx: Ctx) -> dict[str, Any]:
    return {"givenName": "Wei", "familyName": "Ng"}


async def _organization(ctx: Ctx) -> dict[str, Any]:
    return {"tradingName": "Kopi Corner Pte Ltd"}


async def _customer_of_individual(ctx: Ctx) -> dict[str, Any]:
    return {"name": "Ana Lim", "engagedParty": {"id": await ctx.individual(), "@referredType": "Individual"}}


async def _resource(ctx: Ctx) -> dict[str, Any]:
    # Resource_Create "requires" href and id though they are not its properties (a spec bug): the id is the name.
    return {"href": f"{TMF}/resourceInventoryManagement/v4/resource/90010001", "id": "90010001", "name": "90010001"}


async def _resource_named_otherwise(ctx: Ctx) -> dict[str, Any]:
    return {"href": "urn:x", "id": "SIM-GOLD-1", "name": "SIM-GOLD-1"}


async def _cancel_order(ctx: Ctx) -> dict[str, Any]:
    return {"productOrder": {"id": await ctx.order()}}


async def _order(ctx: Ctx) -> dict[str, Any]:
    # An add item names neither offering nor product in the minimal body; relatedParty is optional too.
    return {"productOrderItem": [{"id": "1", "action": "add"}]}


async def _order_of_customer(ctx: Ctx) -> dict[str, Any]:
    return {"relatedParty": [{"id": await ctx.customer(), "@referredType": "Customer"}],
            "productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "PLAN_M"}}]}


async def _payment_method(ctx: Ctx) -> dict[str, Any]:
    # PaymentMethod_Create names neither the owner (relatedParty is optional) nor the card (BankCard's).
    return {"@type": "bankCard", "name": "Main card"}


async def _payment_method_of_customer(ctx: Ctx) -> dict[str, Any]:
    return await _payment_method(ctx) | {"relatedParty": {"id": await ctx.customer(), "@referredType": "Customer"}}


async def _card_of_customer(ctx: Ctx) -> dict[str, Any]:
    return await _payment_method_of_customer(ctx) | {"cardNumber": "4242424242424242", "expirationDate": "12/35"}


P622, P670 = "TMF622-ProductOrdering-v4.0.0.swagger.json", "TMF670-PaymentMethod-v4.0.0.swagger.json"
P676, P683, P621 = ("TMF676-Payment-v4.0.0.swagger.json", "TMF683-PartyInteraction-v4.0.0.swagger.json",
                    "TMF621-TroubleTicket-v4.0.0.swagger.json")
ONE = frozenset
PARTY = frozenset({"relatedParty"})
CASES = [
    Case(f"{TMF}/partyInteraction/v4/partyInteraction", P683, "PartyInteraction_Create", _interaction,
         ONE({(422, "party_interaction.create.requires_customer")})),
    Case(f"{TMF}/partyInteraction/v4/partyInteraction", P683, "PartyInteraction_Create", _interaction_of_customer,
         ONE({CREATED}), "with customer", PARTY),
    Case(f"{TMF}/paymentManagement/v4/payment", P676, "Payment_Create", _payment, ONE({CREATED})),
    Case(f"{TMF}/paymentManagement/v4/payment", P676, "Payment_Create", _payment_without_value,
         ONE({(422, "payment.charge.amount_required")}), "no value"),
    Case(f"{TMF}/paymentManagement/v4/refund", P676, "Refund_Create", _refund,
         ONE({(422, "refund.create.requires_payment")})),
    Case(f"{TMF}/paymentManagement/v4/refund", P676, "Refund_Create", _refund_of_payment, ONE({CREATED}),
         "with payment", frozenset({"payment"})),
    Case(f"{TMF}/troubleTicket/v4/troubleTicket", P621, "TroubleTicket_Create", _ticket,
         ONE({(422, "ticket.create.requires_customer")})),
    Case(f"{TMF}/troubleTicket/v4/troubleTicket", P621, "TroubleTicket_Create", _ticket_of_customer,
         ONE({CREATED}), "with customer", PARTY),
    Case(f"{TMF}/party/v4/individual", "TMF632-Party-v4.0.0.swagger.json", "Individual_Create", _individual,
         ONE({CREATED})),
    Case(f"{TMF}/party/v4/organization", "TMF632-Party-v4.0.0.swagger.json", "Organization_Create", _organization,
         ONE({CREATED})),
    # Customer_Create leaves contactMedium optional; we need an email to reach the customer.
    Case(f"{TMF}/customerManagement/v4/customer", "TMF629-Customer-v4.0.0.swagger.json", "Customer_Create",
         _customer_of_individual, ONE({(422, "customer.create.requires_contact_medium")}), "individual"),
    # Known gap, out of this slice: the same body engaging an Organization (TMF632 organization and
    # small-business customers are #17 item 3, helper H8) belongs here once that lands.
    # A name that is neither a number nor an ICCID, without @type, says nothing about which pool it joins.
    Case(f"{TMF}/resourceInventoryManagement/v4/resource", "TMF639-ResourceInventory-v4.0.0.swagger.json",
         "Resource_Create", _resource, ONE({CREATED})),
    Case(f"{TMF}/resourceInventoryManagement/v4/resource", "TMF639-ResourceInventory-v4.0.0.swagger.json",
         "Resource_Create", _resource_named_otherwise, ONE({(422, "inventory.resource.name_invalid")}),
         "not a number"),
    # The order may already be past the point of no return when the cancellation arrives.
    Case(f"{TMF}/productOrderingManagement/v4/cancelProductOrder", "TMF622-ProductOrdering-v4.0.0.swagger.json",
         "CancelProductOrder_Create", _cancel_order,
         ONE({CREATED, (422, "order.cancel.not_after_provisioning_started"), (422, "order.transition.invalid")})),
    Case(f"{TMF}/productOrderingManagement/v4/productOrder", P622, "ProductOrder_Create", _order,
         ONE({(422, "order.item.add_takes_offering")})),
    Case(f"{TMF}/productOrderingManagement/v4/productOrder", P622, "ProductOrder_Create", _order_of_customer,
         ONE({CREATED}), "customer and offering", PARTY),
    Case(f"{TMF}/paymentMethod/v4/paymentMethod", P670, "PaymentMethod_Create", _payment_method,
         ONE({(422, "payment_method.add.requires_customer")})),
    Case(f"{TMF}/paymentMethod/v4/paymentMethod", P670, "PaymentMethod_Create", _payment_method_of_customer,
         ONE({(422, "payment_method.add.card_required")}), "customer", PARTY),
    Case(f"{TMF}/paymentMethod/v4/paymentMethod", P670, "PaymentMethod_Create", _card_of_customer,
         ONE({CREATED}), "customer and card", frozenset({"relatedParty", "cardNumber", "expirationDate"})),
]

# TMF620, TMF635 and TMF654 (helper CA): what a name alone, or nothing, becomes.
P620, P635, P654 = ("TMF620-ProductCatalog-v4.0.0.swagger.json", "TMF635-UsageManagement-v4.0.0.swagger.json",
                    "TMF654-PrepayBalance-v4.0.0.swagger.json")
CATALOG, USAGE_API = f"{TMF}/productCatalogManagement/v4", f"{TMF}/usageManagement/v4"


async def _named(ctx: Ctx) -> dict[str, Any]:
    return {"name": "Kopi Plan"}


async def _plan_with_allowances(ctx: Ctx) -> dict[str, Any]:
    # No category: the kind defaults to a plan, which declares its four allowances.
    return {"name": "Kopi Plan", "prodSpecCharValueUse": [
        {"name": name, "productSpecCharacteristicValue": [{"value": 0, "unitOfMeasure": unit}]}
        for name, unit in (("data", "MB"), ("voice", "s"), ("sms", "sms"), ("data_roaming", "MB"))]}


async def _priced(ctx: Ctx) -> dict[str, Any]:
    # priceType, period and currency default from the offering (a plan: recurring every 30 days, SGD).
    return {"name": "Standard again", "productOffering": {"id": "PLAN_M"}, "price": {"value": 24}}


async def _nothing(ctx: Ctx) -> dict[str, Any]:
    return {}


async def _usage_spec_rated_as_data(ctx: Ctx) -> dict[str, Any]:
    return {"name": "5G data session", "specCharacteristic": [
        {"name": "usageType", "characteristicValueSpecification": [{"value": "data"}]}]}


async def _topup(ctx: Ctx) -> dict[str, Any]:
    # Quantity has no required attribute: units default to MB, the amount cannot be guessed.
    return {"amount": {}, "usageType": "data", "bucket": {"id": "SUB-000001-data"}, "partyAccount": {"id": "x"}}


CASES += [
    Case(f"{CATALOG}/productOffering", P620, "ProductOffering_Create", _named,
         ONE({(422, "catalog.offering.allowances_valid")})),
    Case(f"{CATALOG}/productOffering", P620, "ProductOffering_Create", _plan_with_allowances, ONE({CREATED}),
         "plan", frozenset({"prodSpecCharValueUse"})),
    Case(f"{CATALOG}/productOfferingPrice", P620, "ProductOfferingPrice_Create", _named,
         ONE({(422, "catalog.price.offering_required")})),
    Case(f"{CATALOG}/productOfferingPrice", P620, "ProductOfferingPrice_Create", _priced, ONE({CREATED}),
         "priced", frozenset({"productOffering", "price"})),
    Case(f"{CATALOG}/productSpecification", P620, "ProductSpecification_Create", _named, ONE({CREATED})),
    Case(f"{USAGE_API}/usage", P635, "Usage_Create", _nothing, ONE({(422, "usage.record.usage_type_required")})),
    Case(f"{USAGE_API}/usageSpecification", P635, "UsageSpecification_Create", _nothing,
         ONE({(422, "usage_specification.create.name_required")})),
    Case(f"{USAGE_API}/usageSpecification", P635, "UsageSpecification_Create", _usage_spec_rated_as_data,
         ONE({CREATED}), "rated as data", frozenset({"name", "specCharacteristic"})),
    Case(f"{TMF}/prepayBalanceManagement/v4/topupBalance", P654, "TopupBalance_Create", _topup,
         ONE({(422, "subscription.vas_purchase.amount_required")})),
]

# TMF654 adjustBalance and TMF678 customerBillOnDemand (helper BA): what the bare required attributes become.
async def _adjustment(ctx: Ctx) -> dict[str, Any]:
    # Quantity has no required attribute: units default to the bucket's, the amount cannot be guessed.
    return {"amount": {}, "usageType": "data", "bucket": {"id": "SUB-000001-data"}}


async def _bill_on_demand(ctx: Ctx) -> dict[str, Any]:
    return {}  # CustomerBillOnDemand_Create requires nothing


CASES += [
    Case(f"{TMF}/prepayBalanceManagement/v4/adjustBalance", "TMF654-PrepayBalance-v4.0.0.swagger.json",
         "AdjustBalance_Create", _adjustment, ONE({(422, "balance.adjust.amount_required")})),
    Case(f"{TMF}/customerBillManagement/v4/customerBillOnDemand", "TMF678-CustomerBill-v4.0.0.swagger.json",
         "CustomerBillOnDemand_Create", _bill_on_demand, ONE({(422, "bill.on_demand.billing_account_required")})),
]

# TMF630 part 2 listeners (apis/tmf_hub.py), one per API: EventSubscriptionInput requires only the callback.
async def _hub(ctx: Ctx) -> dict[str, Any]:
    return {"callback": "http://127.0.0.1:9/minimal-body-probe"}


CASES += [Case(f"{base}/hub", spec, "EventSubscriptionInput", _hub, ONE({CREATED}), base.split("/")[2])
          for base, spec in HUB_SPEC_FILES.items()]

# Route -> why its minimal spec body is not in the table yet. Each answered 400 when this table was written
# (the field our model requires is named), in routers outside this slice of #17 item 2.
KNOWN_GAPS = {
}


@cache
def create_validator(spec_file: str, definition: str) -> Draft4Validator:
    spec = json.loads((get_settings().tmf_specs_dir / spec_file).read_text())
    registry = Registry().with_resource(uri=spec_file, resource=Resource.from_contents(
        spec, default_specification=DRAFT4))
    return Draft4Validator({"$ref": f"{spec_file}#/definitions/{definition}"}, registry=registry)


def required_of(spec_file: str, definition: str) -> set[str]:
    spec = json.loads((get_settings().tmf_specs_dir / spec_file).read_text())
    return set(spec["definitions"][definition].get("required", []))


def documented(code: str) -> bool:
    """Whether docs/RULE_CODES.md lists the code, literally or as a template (`customer.<operation>.x`)."""
    listed = re.findall(r"^\| `([^`]+)` \|", (REPO_ROOT / "docs" / "RULE_CODES.md").read_text(), re.MULTILINE)
    return any(re.fullmatch(re.sub(r"<[^>]+>", "[a-z0-9_]+", re.escape(entry).replace(r"\<", "<").replace(r"\>", ">")),
                            code) for entry in listed)


def test_every_post_route_has_a_minimal_body_or_a_stated_gap():
    routes = post_routes()
    assert set(KNOWN_GAPS) <= routes, f"stale known gaps: {set(KNOWN_GAPS) - routes}"
    covered = {case.route for case in CASES}
    assert covered <= routes, f"cases for routes that do not exist: {covered - routes}"
    assert not covered & set(KNOWN_GAPS), "a route is both tested and listed as a gap"
    missing = routes - covered - set(KNOWN_GAPS)
    assert not missing, f"POST routes without a minimal spec body: {sorted(missing)}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.route.rsplit('/', 1)[-1]}-{c.label}")
async def test_minimal_spec_body_is_accepted_or_refused_with_a_rule_code(seeded_api, case):
    body = await case.body(Ctx(seeded_api))
    errors = [e.message for e in create_validator(case.spec, case.definition).iter_errors(body)]
    assert not errors, f"the table's body is not a valid {case.definition}: {errors}"
    assert set(body) == required_of(case.spec, case.definition) | case.extra, "required properties (+ extra) only"
    response = await seeded_api.post(case.route, json=body)
    outcome = (response.status_code, response.json()["code"] if response.status_code == 422 else None)
    assert outcome in case.expect, response.text
    for status, code in case.expect:
        assert status in (200, 201, 202, 422), "a spec-valid body is accepted or refused with a rule code"
        assert code is None or documented(code), f"{code} is not in docs/RULE_CODES.md"


def spec_value(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """The smallest value a schema accepts: an object of its required properties, one-item arrays."""
    if "$ref" in schema:
        return spec_value(spec, spec["definitions"][schema["$ref"].rsplit("/", 1)[-1]])
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "array":
        return [spec_value(spec, schema.get("items", {}))]
    if kind == "string":
        return "2026-01-05T09:00:00Z" if schema.get("format") == "date-time" else "x"
    if kind in ("number", "integer"):
        return 1
    if kind == "boolean":
        return False
    return {name: spec_value(spec, schema.get("properties", {}).get(name, {"type": "string"}))
            for name in schema.get("required", [])}


# The routes of this slice, each with its customer-fitted base body: every optional property of the
# `*_Create` schema, added alone with the smallest value the spec accepts, is defaulted, ignored
# (server-set) or refused with a documented 422 — never 400.
# TMF620 offering/price/specification and TMF635 usageSpecification probe theirs in one database per route
# (probe_optional_attributes in tests/api/test_catalog_spec_new.py, used by test_usage_spec.py too).
OPTIONAL_PROBES = [case for case in CASES if case.label in ("with customer", "with payment")
                   or (case.route.endswith("/payment") and case.label == "minimal")]


def _optional_properties() -> list[tuple[Case, str]]:
    found = []
    for case in OPTIONAL_PROBES:
        spec = json.loads((get_settings().tmf_specs_dir / case.spec).read_text())
        definition = spec["definitions"][case.definition]
        found += [(case, name) for name in sorted(definition["properties"])
                  if name not in definition.get("required", []) and name not in case.extra]
    return found


@pytest.mark.parametrize(("case", "name"), _optional_properties(),
                         ids=lambda v: v if isinstance(v, str) else v.route.rsplit("/", 1)[-1])
async def test_each_optional_spec_attribute_is_never_a_400(seeded_api, case, name):
    spec = json.loads((get_settings().tmf_specs_dir / case.spec).read_text())
    body = await case.body(Ctx(seeded_api))
    body[name] = spec_value(spec, spec["definitions"][case.definition]["properties"][name])
    errors = [e.message for e in create_validator(case.spec, case.definition).iter_errors(body)]
    assert not errors, f"the probe is not a valid {case.definition}: {errors}"
    response = await seeded_api.post(case.route, json=body)
    assert response.status_code in (200, 201, 202, 422), response.text
    if response.status_code == 422:
        assert documented(response.json()["code"]), response.text
