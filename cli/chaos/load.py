"""The mixed load of a chaos round, over HTTP like any client: orders, data usage and VAS top-ups.

Every call waits outages out. A request that never reached the API (connection refused) is sent
again; an idempotent one (usage under its event id, a top-up under its request id, any read) is
sent again after any failure or 5xx. An order carries the client's own `externalId`, so sending it
again (its answer lost, or a 503 while Temporal was away) resumes the order instead of placing
another; a customer whose set-up lost an answer is left half made and a new one orders instead. The gates
read the database (the run's customers' orders and lines), not this client's view.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import httpx

ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
USAGE = "/tmf-api/usageManagement/v4/usage"
OPS = "/bss-api/v1/subscription"
CLOCK = "/ops-api/v1/clock"
FINAL = ("completed", "failed", "cancelled")
PLANS = ("PLAN_S", "PLAN_S", "PLAN_M")  # mostly the 5 GB plan, so lines run dry and top-ups matter
TOP_UPS = ("VAS_DATA_1GB", "VAS_DATA_5GB")  # end-of-period grants: the balance rule is exact for them
RETRY_FOR_S = 150.0
ORDER_BOUND_S = 180.0


class LoadError(Exception):
    """The stack did not answer within the retry bound."""


@dataclass(frozen=True)
class Line:
    """An active line the load uses."""

    subscription_id: str
    msisdn: str


@dataclass
class Tally:
    """What the load did in one round."""

    orders: int = 0
    completed: int = 0
    failed: int = 0
    usage_rated: int = 0
    usage_rejected: int = 0
    top_ups: int = 0
    top_ups_refused: int = 0
    lost_answers: int = 0
    retries: int = 0
    order_ids: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


class Client:
    """An API client that waits outages out (see the module docstring)."""

    def __init__(self, http: httpx.AsyncClient, tally: Tally) -> None:
        self.http, self.tally = http, tally

    async def send(self, method: str, path: str, body: object = None, *, idempotent: bool) -> httpx.Response | None:
        """Send until answered below 500; None when a non-idempotent request's answer was lost."""
        deadline = time.monotonic() + RETRY_FOR_S
        pause = 0.1
        while True:
            try:
                response = await self.http.request(method, path, json=body)
                if response.status_code < 500:
                    return response
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
                pass  # never reached the API: always safe to send again
            except httpx.TransportError:
                if not idempotent:
                    self.tally.lost_answers += 1
                    return None
            if time.monotonic() > deadline:
                raise LoadError(f"{method} {path}: no answer below 500 within {RETRY_FOR_S:.0f} s")
            self.tally.retries += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)

    def expect(self, response: httpx.Response | None, *codes: int) -> dict | None:
        """The JSON body when the status is one of `codes`; otherwise note it and return None."""
        if response is None:
            return None
        if response.status_code in codes:
            return response.json()
        self.tally.unexpected.append(f"{response.request.method} {response.request.url.path}: "
                                     f"{response.status_code} {response.text[:200]}")
        return None


async def new_customer(api: Client, tag: str, n: int, customers: list[str]) -> str | None:
    """A customer ready to order (individual, customer, KYC, card), or None when an answer was lost.

    The customer's id goes into `customers` as soon as it is known: the gates find its orders there.
    """
    person = api.expect(await api.send("POST", "/tmf-api/party/v4/individual",
                                       {"givenName": "Chaos", "familyName": f"R{n}"}, idempotent=False), 201)
    if person is None:
        return None
    customer = api.expect(await api.send("POST", "/tmf-api/customerManagement/v4/customer", {
        "name": f"Chaos {tag} {n}", "engagedParty": {"id": person["id"], "@referredType": "Individual"},
        "contactMedium": [{"mediumType": "email", "preferred": True,
                           "characteristic": {"emailAddress": f"chaos.{tag}.{n}@example.com"}}]},
        idempotent=False), 201)
    if customer is None:
        return None
    customers.append(customer["id"])
    digits = (int(tag, 36) * 1000 + n) % 10**7
    kyc = await api.send("POST", f"/crm-api/v1/customer/{customer['id']}/kyc", {
        "provider": "prebaked", "documentType": "nric", "documentNumber": f"T{digits:07d}C"}, idempotent=False)
    if api.expect(kyc, 200, 201) is None:
        return None
    card = await api.send("POST", "/tmf-api/paymentMethod/v4/paymentMethod", {
        "@type": "bankCard", "relatedParty": {"id": customer["id"], "@referredType": "Customer"},
        "cardNumber": "4242424242424242", "expirationDate": "12/35"}, idempotent=False)
    return customer["id"] if api.expect(card, 201) is not None else None


async def place_order(api: Client, customer_id: str, plan: str, external_id: str) -> dict | None:
    """Place one order under the client's own `externalId`: sent again after any failure, it is placed once.

    An order the API accepted but could not start (Temporal unreachable: 503) waits in `acknowledged`
    for exactly this retry, which resumes it instead of placing another.
    """
    body = {"externalId": external_id,
            "relatedParty": [{"id": customer_id, "role": "customer", "@referredType": "Customer"}],
            "productOrderItem": [{"id": "1", "action": "add", "quantity": 1,
                                  "productOffering": {"id": plan, "@referredType": "ProductOffering"}}]}
    return api.expect(await api.send("POST", ORDERS, body, idempotent=True), 200, 201)


async def order_line(api: Client, customer_id: str, plan: str, external_id: str) -> Line | None:
    """Order a line of `plan` and follow the order until it is final; the line when it completed."""
    order = await place_order(api, customer_id, plan, external_id)
    if order is None:
        return None
    api.tally.orders += 1
    api.tally.order_ids.append(order["id"])
    deadline = time.monotonic() + ORDER_BOUND_S
    while time.monotonic() < deadline:
        current = api.expect(await api.send("GET", f"{ORDERS}/{order['id']}", idempotent=True), 200)
        if current is not None and current["state"] in FINAL:
            if current["state"] != "completed":
                api.tally.failed += 1
                return None
            api.tally.completed += 1
            product = current["productOrderItem"][0]["product"]
            msisdn = next(c["value"] for c in product["productCharacteristic"] if c["name"] == "msisdn")
            return Line(product["id"], msisdn)
        await asyncio.sleep(0.25)
    return None  # the stranded-order gate reports it


async def use_data(api: Client, line: Line, event_id: str, mb: int) -> None:
    """One data usage event (sent again under the same event id until answered)."""
    response = await api.send("POST", USAGE, {"usageType": "data", "usageCharacteristic": [
        {"name": "msisdn", "value": line.msisdn}, {"name": "quantity", "value": mb}, {"name": "unit", "value": "MB"},
        {"name": "eventId", "value": event_id}]}, idempotent=True)
    if response is not None and response.status_code == 422:
        api.tally.usage_rejected += 1  # the line ran dry (or is blocked): rating refused it
    elif api.expect(response, 201, 200) is not None:  # 200: a resent event id answers the original rating
        api.tally.usage_rated += 1


async def top_up(api: Client, line: Line, offering: str, request_id: str) -> None:
    """Buy a data top-up (sent again under the same request id until answered)."""
    response = await api.send("POST", f"{OPS}/{line.subscription_id}/vas",
                              {"offeringId": offering, "requestId": request_id}, idempotent=True)
    if response is not None and response.status_code == 422:
        api.tally.top_ups_refused += 1
    elif api.expect(response, 201) is not None:
        api.tally.top_ups += 1


async def advance_clock(api: Client, duration: str, timeout_s: float = 120.0) -> dict | None:
    """Move scenario time (renewals fall due); sent again only when it never reached the API."""
    return api.expect(await api.send("POST", f"{CLOCK}/advance", {"duration": duration, "timeoutSeconds": timeout_s},
                                     idempotent=False), 200)


@dataclass
class Load:
    """The load of a run: its lines carry over from round to round."""

    api_url: str
    token: str
    tag: str
    lines: list[Line] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    counter: int = 0

    def next_id(self, kind: str) -> str:
        """A run-unique id for an event, a request or a customer."""
        self.counter += 1
        return f"chaos-{self.tag}-{kind}{self.counter}"

    def client(self, tally: Tally) -> tuple[httpx.AsyncClient, Client]:
        """An HTTP client of the stack's API and its outage-tolerant wrapper."""
        http = httpx.AsyncClient(base_url=self.api_url, timeout=httpx.Timeout(60.0, connect=5.0),
                                 headers={"X-BSS-API-Token": self.token})
        return http, Client(http, tally)

    async def _order(self, api: Client, rng: random.Random, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        for _ in range(3):  # a customer whose set-up lost an answer is left as it is; a new one orders
            self.counter += 1
            customer = await new_customer(api, self.tag, self.counter, self.customers)
            if customer is not None:
                if line := await order_line(api, customer, rng.choice(PLANS), self.next_id("o")):
                    self.lines.append(line)
                return

    async def _traffic(self, api: Client, rng: random.Random, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(rng.uniform(0.05, 0.4))
            if not self.lines:
                continue
            line = rng.choice(self.lines)
            if rng.random() < 0.8:
                await use_data(api, line, self.next_id("u"), rng.randint(100, 1500))
            else:
                await top_up(api, line, rng.choice(TOP_UPS), self.next_id("v"))

    async def round(self, rng: random.Random, orders: int, duration_s: float, streams: int,
                    stop: asyncio.Event, tally: Tally) -> None:
        """Place `orders` orders spread over the round and send usage and top-ups until `stop`."""
        http, api = self.client(tally)
        async with http:
            placing = [self._order(api, random.Random(rng.random()), rng.uniform(0, duration_s * 0.3))
                       for _ in range(orders)]
            traffic = [self._traffic(api, random.Random(rng.random()), stop) for _ in range(streams)]
            await asyncio.gather(*placing, *traffic)
