"""TMF622 wire format: request models and the product order mapper (wire ≠ domain)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

from apis.tmf import href, iso, ref
from core.errors import MalformedRequest
from domain.money import Money

BASE = "/tmf-api/productOrderingManagement/v4"
ORDER_PATH = f"{BASE}/productOrder"
CANCEL_PATH = f"{BASE}/cancelProductOrder"
WIRE_STATE = {"acknowledged": "acknowledged", "in_progress": "inProgress", "completed": "completed",
              "failed": "failed", "cancelled": "cancelled"}


class _Tmf(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type_: str | None = Field(default=None, alias="@type")
    base_type: str | None = Field(default=None, alias="@baseType")
    schema_location: str | None = Field(default=None, alias="@schemaLocation")


class EntityRef(_Tmf):
    """A reference in a request body."""

    id: str = Field(min_length=1)
    href: str | None = None
    name: str | None = None
    role: str | None = None
    referred_type: str | None = Field(default=None, alias="@referredType")


class CharacteristicIn(_Tmf):
    """A name/value characteristic."""

    name: str
    value: Any
    valueType: str | None = None


class ProductIn(_Tmf):
    """The product an item asks for (only characteristics matter: e.g. a chosen msisdn)."""

    productCharacteristic: list[CharacteristicIn] = []


class ProductOrderItemIn(_Tmf):
    """One line of an order."""

    id: str
    action: str
    quantity: int = 1
    productOffering: EntityRef
    product: ProductIn | None = None


class ProductOrderCreate(_Tmf):
    """ProductOrder_Create: one `add` item for a plan, the customer in relatedParty."""

    externalId: str | None = Field(default=None, max_length=120)
    description: str | None = None
    requestedCompletionDate: str | None = None
    relatedParty: list[EntityRef] = Field(min_length=1)
    productOrderItem: list[ProductOrderItemIn] = Field(min_length=1)


class CancelProductOrderCreate(_Tmf):
    """CancelProductOrder_Create."""

    productOrder: EntityRef
    cancellationReason: str | None = Field(default=None, max_length=500)
    requestedCancellationDate: str | None = None


def parse_order(body: ProductOrderCreate) -> tuple[str, str, str | None]:
    """Return (customer id, offering id, requested msisdn) or raise a 400 naming the field."""
    customers = [p for p in body.relatedParty if (p.role or "").lower() == "customer" or p.referred_type == "Customer"]
    if len(customers) != 1:
        raise MalformedRequest("request.malformed", "relatedParty must name exactly one customer",
                               {"field": "relatedParty"})
    if len(body.productOrderItem) != 1 or body.productOrderItem[0].action != "add":
        raise MalformedRequest("request.malformed", "an order has exactly one productOrderItem with action 'add'",
                               {"field": "productOrderItem"})
    item = body.productOrderItem[0]
    if item.quantity != 1:
        raise MalformedRequest("request.malformed", "quantity must be 1 (one line per order)",
                               {"field": "productOrderItem.quantity"})
    msisdn = None
    for char in item.product.productCharacteristic if item.product else []:
        if char.name == "msisdn":
            msisdn = str(char.value)
    return customers[0].id, item.productOffering.id, msisdn


def order_to_tmf(row: dict, request: Request) -> dict[str, Any]:
    """Map an order row to a TMF622 ProductOrder."""
    state = WIRE_STATE[row["state"]]
    price = Money(row["price_minor"], row["currency"])
    item_price = {"priceType": "recurring", "recurringChargePeriod": f"{row['period_days']} days",
                  "price": {"taxIncludedAmount": {"unit": price.currency, "value": price.major}},
                  "productOfferingPrice": ref(request, "/tmf-api/productCatalogManagement/v4/productOfferingPrice",
                                              row["offering_price_id"], "ProductOfferingPrice")}
    product: dict[str, Any] = {"@type": "Product", "productCharacteristic": []}
    if row["subscription_id"]:
        product.update(id=row["subscription_id"],
                       href=href(request, f"/tmf-api/productInventory/v4/product/{row['subscription_id']}"),
                       **{"@referredType": "Product"})
    if row["msisdn"] or row["requested_msisdn"]:
        product["productCharacteristic"].append({"name": "msisdn", "valueType": "string",
                                                 "value": row["msisdn"] or row["requested_msisdn"]})
    if row["service_order_id"]:
        product["realizingService"] = [{"id": row["service_order_id"], "@referredType": "ServiceOrder",
                                        "href": href(request, f"/tmf-api/serviceOrdering/v4/serviceOrder/"
                                                              f"{row['service_order_id']}")}]
    body: dict[str, Any] = {
        "id": row["id"], "href": href(request, f"{ORDER_PATH}/{row['id']}"), "@type": "ProductOrder",
        "externalId": row["external_id"], "orderDate": iso(row["order_date"]), "state": state,
        "completionDate": iso(row["completed_at"]), "channel": [{"id": row["channel"], "name": row["channel"],
                                                                 "@referredType": "Channel"}],
        "relatedParty": [dict(ref(request, "/tmf-api/customerManagement/v4/customer", row["customer_id"],
                                  "Customer"), role="customer")],
        "productOrderItem": [{
            "id": "1", "action": "add", "quantity": 1, "state": state, "@type": "ProductOrderItem",
            "productOffering": ref(request, "/tmf-api/productCatalogManagement/v4/productOffering",
                                   row["offering_id"], "ProductOffering"),
            "itemPrice": [item_price], "product": product,
        }],
        "orderTotalPrice": [item_price],
        "note": [{"text": f"step: {row['step']}", "author": "system", "@type": "Note"}],
    }
    if row["failure_reason"]:
        body["note"].append({"text": row["failure_reason"], "author": "system", "@type": "Note"})
        if row["state"] == "cancelled":
            body["cancellationReason"] = row["failure_reason"]
            body["cancellationDate"] = iso(row["completed_at"])
    return {k: v for k, v in body.items() if v is not None}


def cancel_to_tmf(row: dict, request: Request, reason: str | None = None) -> dict[str, Any]:
    """A CancelProductOrder resource derived from its order (one cancellation per order)."""
    task_state = {"cancelled": "done", "failed": "terminatedWithError", "completed": "terminatedWithError"}.get(
        row["state"], "inProgress")
    cancel_id = f"CAN-{row['id']}"
    body = {"id": cancel_id, "href": href(request, f"{CANCEL_PATH}/{cancel_id}"), "@type": "CancelProductOrder",
            "state": task_state, "cancellationReason": reason or row["failure_reason"],
            "productOrder": ref(request, ORDER_PATH, row["id"], "ProductOrder"),
            "effectiveCancellationDate": iso(row["completed_at"]) if row["state"] == "cancelled" else None}
    return {k: v for k, v in body.items() if v is not None}
