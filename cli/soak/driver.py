"""Synthetic customers: sign up through the API as the portal does, then live their days.

Every choice comes from one `random.Random` per customer, derived from the run's seed, and every
request id and usage event id is derived from (customer, day, n): a run is reproducible. The
client keeps what the API told it (purchases it was charged for, usage rated or refused) for the
reconciliation, and the wall time of every call per operation for the latency quantiles.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

APPROVE = "4242424242424242"
DECLINE = "4000000000000002"
PLANS = {"PLAN_S": 0.5, "PLAN_M": 0.35, "PLAN_L": 0.15}
# MB a day per plan: a 5 GB PLAN_S runs dry within the fortnight unless topped up.
DATA_PER_DAY = {"PLAN_S": (150, 700), "PLAN_M": (400, 1400), "PLAN_L": (1000, 6000)}
TOP_UPS = ("VAS_DATA_1GB", "VAS_DATA_5GB")
DAY_PASS = "VAS_UNLIMITED_DAY"
PERIOD_DAYS = 30

INDIVIDUAL = "/tmf-api/party/v4/individual"
CUSTOMER = "/tmf-api/customerManagement/v4/customer"
METHODS = "/tmf-api/paymentMethod/v4/paymentMethod"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
PRODUCTS = "/tmf-api/productInventory/v4/product"
USAGE = "/tmf-api/usageManagement/v4/usage"
LINES = "/bss-api/v1/subscription"
CASES = "/crm-api/v1/case"
CLOCK = "/ops-api/v1/clock/advance"


class Timed:
    """An API client that times every call under an operation name and counts unexpected answers."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.unexpected: list[str] = []

    async def call(self, op: str, method: str, path: str, expect: tuple[int, ...] = (200, 201),
                   **kwargs: Any) -> httpx.Response:
        """One request; an answer outside `expect` (or any 5xx) is recorded as unexpected."""
        began = time.perf_counter()
        response = await self.client.request(method, path, **kwargs)
        self.latency[op].append(time.perf_counter() - began)
        if response.status_code not in expect or response.status_code >= 500:
            self.unexpected.append(f"{op} {method} {path}: {response.status_code} {response.text[:300]}")
        return response


@dataclass
class Customer:
    """One synthetic customer: who they are on the API, and what the API told them."""

    index: int
    rng: random.Random
    offering: str = ""
    customer_id: str = ""
    email: str = ""
    subscription_id: str = ""
    msisdn: str = ""
    order_id: str = ""
    approve_card: str = ""
    decline_card: str = ""
    declines_renewal: bool = False
    terminated: bool = False
    plan_change: str | None = None
    purchases: list[tuple[str, str]] = field(default_factory=list)  # (kind, offering) the API said it charged
    rated: int = 0
    rejected: int = 0
    cases: int = 0
    renewals: int = 0
    blocked_days: int = 0

    def identifiers(self) -> set[str]:
        """What names this customer (what no other customer may ever be shown)."""
        return {x for x in (self.customer_id, self.subscription_id, self.msisdn, self.email.lower()) if x}


def customers(count: int, seed: int, decline_share: float) -> list[Customer]:
    """`count` customers with their own seeded generators; a `decline_share` of them lets a renewal decline."""
    out = []
    for i in range(count):
        rng = random.Random(f"{seed}:{i}")
        c = Customer(index=i, rng=rng)
        c.offering = rng.choices(list(PLANS), weights=list(PLANS.values()))[0]
        c.declines_renewal = rng.random() < decline_share
        out.append(c)
    return out


async def sign_up(api: Timed, c: Customer, seed: int) -> None:
    """Individual → customer → KYC → card → order, as the self-serve portal does; waits for the active line."""
    tag = f"{seed}x{c.index}"
    given = f"Soak{c.index}"
    individual = await api.call("party.individual", "POST", INDIVIDUAL,
                                json={"givenName": given, "familyName": f"Run{seed}"})
    c.email = f"soak.{tag}@example.com"
    customer = await api.call("customer.create", "POST", CUSTOMER, json={
        "name": f"{given} Run{seed}", "engagedParty": {"id": individual.json()["id"], "@referredType": "Individual"},
        "contactMedium": [{"mediumType": "email", "preferred": True, "characteristic": {"emailAddress": c.email}}]})
    c.customer_id = customer.json()["id"]
    await api.call("customer.kyc", "POST", f"/crm-api/v1/customer/{c.customer_id}/kyc", json={
        "provider": "prebaked", "documentType": "nric", "documentNumber": f"S{(seed * 100_003 + c.index) % 10**7:07d}D"})
    c.approve_card = (await add_card(api, c, APPROVE))["id"]
    order = await api.call("order.create", "POST", ORDERS, json={
        "relatedParty": [{"id": c.customer_id, "role": "customer", "@referredType": "Customer"}],
        "externalId": f"soak-{tag}",
        "productOrderItem": [{"id": "1", "action": "add", "quantity": 1,
                              "productOffering": {"id": c.offering, "@referredType": "ProductOffering"}}]})
    c.order_id = order.json()["id"]
    done = await wait_order(api, c.order_id)
    if done.get("state") != "completed":
        api.unexpected.append(f"order {c.order_id} of {c.customer_id} ended {done.get('state')}")
        return
    c.purchases.append(("activation", c.offering))
    c.subscription_id = done["productOrderItem"][0]["product"]["id"]
    product = (await api.call("product.show", "GET", f"{PRODUCTS}/{c.subscription_id}")).json()
    c.msisdn = next(x["value"] for x in product["productCharacteristic"] if x["name"] == "msisdn")


async def add_card(api: Timed, c: Customer, number: str) -> dict:
    """Put a card on file (the first one is the default)."""
    return (await api.call("payment.add_card", "POST", METHODS, json={
        "@type": "bankCard", "relatedParty": {"id": c.customer_id, "@referredType": "Customer"},
        "cardNumber": number, "expirationDate": "12/35", "nameOnCard": f"Soak {c.index}"})).json()


async def wait_order(api: Timed, order_id: str, timeout: float = 120.0) -> dict:
    """Poll the order until it is final (the saga runs on the private workers)."""
    deadline, pause = time.monotonic() + timeout, 0.1
    while True:
        body = (await api.call("order.show", "GET", f"{ORDERS}/{order_id}")).json()
        if body.get("state") in ("completed", "failed", "cancelled") or time.monotonic() > deadline:
            return body
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, 0.5)  # a saga takes ~1 s alone, longer when many run: polls cost the API


async def use(api: Timed, c: Customer, usage_type: str, quantity: int, unit: str, event_id: str) -> bool:
    """One usage event; True when rated, False when refused (a blocked line)."""
    response = await api.call(f"usage.{usage_type}", "POST", USAGE, expect=(201, 422), json={
        "usageType": usage_type, "usageCharacteristic": [
            {"name": "msisdn", "value": c.msisdn}, {"name": "quantity", "value": quantity},
            {"name": "unit", "value": unit}, {"name": "eventId", "value": event_id}]})
    if response.status_code == 201:
        c.rated += 1
        return True
    c.rejected += 1
    return False


async def buy(api: Timed, c: Customer, offering: str, request_id: str) -> bool:
    """Buy a VAS with the card on file; True when charged and granted."""
    response = await api.call("subscription.vas", "POST", f"{LINES}/{c.subscription_id}/vas", expect=(201, 422),
                              json={"offeringId": offering, "requestId": request_id})
    if response.status_code == 201:
        c.purchases.append(("vas", offering))
        return True
    return False


async def line_state(api: Timed, c: Customer) -> str:
    """The line's TMF637 status as the API shows it."""
    return (await api.call("product.show", "GET", f"{PRODUCTS}/{c.subscription_id}")).json()["status"]


async def prefer(api: Timed, method_id: str) -> None:
    """Make a card on file the default one."""
    await api.call("payment.update_method", "PATCH", f"{METHODS}/{method_id}", json={"isPreferred": True})


async def live_day(api: Timed, c: Customer, day: int, days: int) -> None:
    """One day of one customer: usage of each kind, purchases, plan change, renewal care, a case, termination."""
    if c.terminated or not c.subscription_id:
        return
    rng, key = c.rng, f"{c.subscription_id}-d{day}"
    low, high = DATA_PER_DAY[c.offering]
    data_ok = await use(api, c, "data", rng.randint(low, high), "MB", f"soak-{key}-data")
    for n in range(rng.randint(0, 3)):
        await use(api, c, "voice", rng.randint(20, 900), "s", f"soak-{key}-voice{n}")
    for n in range(rng.randint(0, 4)):
        await use(api, c, "sms", 1, "sms", f"soak-{key}-sms{n}")
    if not data_ok:
        c.blocked_days += 1
        if rng.random() < 0.6:  # a blocked customer mostly tops up, sometimes takes a day pass
            await buy(api, c, rng.choice(TOP_UPS) if rng.random() < 0.75 else DAY_PASS, f"soak-{key}-unblock")
    elif rng.random() < 0.06:
        await buy(api, c, rng.choice(TOP_UPS), f"soak-{key}-topup")
    elif rng.random() < 0.04:
        await buy(api, c, DAY_PASS, f"soak-{key}-daypass")
    if c.plan_change is None and rng.random() < 0.03:
        target = rng.choice([p for p in PLANS if p != c.offering])
        changed = await api.call("subscription.plan_change", "POST", f"{LINES}/{c.subscription_id}/plan-change",
                                 expect=(200, 201, 202, 422), json={"offeringId": target})
        if changed.status_code < 300:
            c.plan_change = target
    await renewal_care(api, c, day)
    if rng.random() < 0.03:
        opened = await api.call("case.open", "POST", CASES, json={
            "customerId": c.customer_id, "title": f"Soak question day {day}", "priority": "low",
            "description": "Why did my data run out so fast?", "category": "billing"})
        c.cases += opened.status_code == 201
    if day >= 3 and day < days - 1 and rng.random() < 0.006:
        ended = await api.call("subscription.terminate", "POST", f"{LINES}/{c.subscription_id}/terminate",
                               json={"reason": "soak: customer leaves"})
        c.terminated = ended.status_code < 300


async def renewal_care(api: Timed, c: Customer, day: int) -> None:
    """A card that declines goes on file before the renewal; after it, the good card and an explicit renewal."""
    if not c.declines_renewal:
        return
    if day % PERIOD_DAYS == PERIOD_DAYS - 1:  # the renewal fires as tonight's advance passes day 30
        if not c.decline_card:
            c.decline_card = (await add_card(api, c, DECLINE))["id"]
        await prefer(api, c.decline_card)
    elif day % PERIOD_DAYS == 0 and day > 0:
        status = await line_state(api, c)
        await prefer(api, c.approve_card)
        if status == "suspended":  # blocked for the unpaid renewal (or for data): renew it now, paid
            renewed = await api.call("subscription.renew", "POST", f"{LINES}/{c.subscription_id}/renew",
                                     expect=(200, 201, 422), json={"requestId": f"soak-{c.subscription_id}-r{day}"})
            if renewed.status_code < 300:
                c.renewals += 1


async def advance(api: Timed, duration: str = "1d") -> dict:
    """Move the stack clock: every open workflow is fast-forwarded by as much."""
    return (await api.call("clock.advance", "POST", CLOCK, json={"duration": duration, "timeoutSeconds": 300},
                           timeout=400)).json()


async def gather_limited(limit: int, coros: list) -> list:
    """Run coroutines `limit` at a time."""
    gate = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with gate:
            return await coro

    return list(await asyncio.gather(*(one(c) for c in coros)))
