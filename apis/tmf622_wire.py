"""TMF622 wire format: request models and the product order mapper (wire ≠ domain)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

from apis.tmf import href, iso, ref
from domain.money import Money
from policies.base import raise_if, violation

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
    """The product of an item: characteristics of a new one (e.g. a chosen msisdn), or an existing line by id."""

    id: str | None = Field(default=None, min_length=1)
    href: str | None = None
    name: str | None = None
    referred_type: str | None = Field(default=None, alias="@referredType")
    productOffering: EntityRef | None = None
    productCharacteristic: list[CharacteristicIn] = []
    # Informative, or what the offering decides (price, specification) and the run sets (status, order date):
    # ignored. Those after them are not kept: 422 (PRODUCT_UNSUPPORTED).
    description: str | None = None
    isBundle: bool | None = None
    isCustomerVisible: bool | None = None
    orderDate: str | None = None
    status: str | None = None
    productPrice: list[dict[str, Any]] | None = None
    productSpecification: dict[str, Any] | None = None

    productSerialNumber: str | None = None
    startDate: str | None = None
    terminationDate: str | None = None
    agreement: list[dict[str, Any]] | None = None
    billingAccount: dict[str, Any] | None = None
    place: list[dict[str, Any]] | None = None
    product: list[dict[str, Any]] | None = None
    productOrderItem: list[dict[str, Any]] | None = None
    productRelationship: list[dict[str, Any]] | None = None
    productTerm: list[dict[str, Any]] | None = None
    realizingResource: list[dict[str, Any]] | None = None
    realizingService: list[dict[str, Any]] | None = None
    relatedParty: list[dict[str, Any]] | None = None


# Optional attributes of the spec that an order here does not keep: each answers 422
# `order.create.attribute_unsupported` naming it, rather than a 400 or being dropped silently.
ITEM_UNSUPPORTED = ("appointment", "billingAccount", "itemTerm", "payment", "productOfferingQualificationItem",
                    "productOrderItem", "productOrderItemRelationship", "qualification", "quoteItem")
PRODUCT_UNSUPPORTED = ("productSerialNumber", "startDate", "terminationDate", "agreement", "billingAccount", "place",
                       "product", "productOrderItem", "productRelationship", "productTerm", "realizingResource",
                       "realizingService", "relatedParty")
ORDER_UNSUPPORTED = ("agreement", "billingAccount", "note", "notificationContact", "payment",
                     "productOfferingQualification", "quote", "requestedStartDate")


class ProductOrderItemIn(_Tmf):
    """One line of an order: `add` a plan, `modify` (change plan of) or `delete` (terminate) a line."""

    id: str
    action: Literal["add", "modify", "delete", "noChange"]
    quantity: int = 1
    productOffering: EntityRef | None = None
    product: ProductIn | None = None
    # Server-set (prices from the catalog, the state from the run): ignored on create.
    itemPrice: list[dict[str, Any]] | None = None
    itemTotalPrice: list[dict[str, Any]] | None = None
    state: str | None = None
    appointment: dict[str, Any] | None = None
    billingAccount: dict[str, Any] | None = None
    itemTerm: list[dict[str, Any]] | None = None
    payment: list[dict[str, Any]] | None = None
    productOfferingQualificationItem: dict[str, Any] | None = None
    productOrderItem: list[dict[str, Any]] | None = None
    productOrderItemRelationship: list[dict[str, Any]] | None = None
    qualification: list[dict[str, Any]] | None = None
    quoteItem: dict[str, Any] | None = None


class ProductOrderCreate(_Tmf):
    """ProductOrder_Create: one item; the customer in relatedParty (or derived, see `parse_order`)."""

    externalId: str | None = Field(default=None, max_length=120)
    relatedParty: list[EntityRef] = []
    productOrderItem: list[ProductOrderItemIn] = Field(min_length=1)
    # Informative only, or server-set (the channel is the calling surface, prices come from the catalog,
    # an order is cancelled through cancelProductOrder): accepted and ignored.
    description: str | None = None
    category: str | None = None
    priority: str | None = None
    requestedCompletionDate: str | None = None
    cancellationDate: str | None = None
    cancellationReason: str | None = None
    channel: list[dict[str, Any]] | None = None
    orderTotalPrice: list[dict[str, Any]] | None = None
    agreement: list[dict[str, Any]] | None = None
    billingAccount: dict[str, Any] | None = None
    note: list[dict[str, Any]] | None = None
    notificationContact: str | None = None
    payment: list[dict[str, Any]] | None = None
    productOfferingQualification: list[dict[str, Any]] | None = None
    quote: list[dict[str, Any]] | None = None
    requestedStartDate: str | None = None  # an order starts when accepted: a later start is not kept


class CancelProductOrderCreate(_Tmf):
    """CancelProductOrder_Create."""

    productOrder: EntityRef
    cancellationReason: str | None = Field(default=None, max_length=500)
    requestedCancellationDate: str | None = None


@dataclass(frozen=True)
class ParsedOrder:
    """What an order asks for, in our terms."""

    action: str                 # add | modify | delete
    customer_id: str | None     # None: relatedParty names none (derived from the line or the bound caller)
    offering_id: str | None     # add: the plan; modify: the plan to move to; delete: unused
    product_id: str | None      # modify/delete: the line acted on
    msisdn: str | None = None   # add: a chosen number


def parse_order(body: ProductOrderCreate) -> ParsedOrder:
    """Read the order's one item; what the spec allows but we do not do is a 422 with a rule code."""
    customers = [p for p in body.relatedParty if (p.role or "").lower() == "customer" or p.referred_type == "Customer"]
    if len(customers) > 1:
        raise_if([violation("order.create.requires_customer", "relatedParty names more than one customer",
                            customers=[p.id for p in customers])])
    if len(body.productOrderItem) != 1:  # one row per order: mixed or several items are separate orders
        raise_if([violation("order.create.one_item_per_order", "an order has exactly one productOrderItem; "
                            "place one order per line", items=len(body.productOrderItem))])
    item = body.productOrderItem[0]
    unsupported = [name for name in ORDER_UNSUPPORTED if getattr(body, name)] + [
        f"productOrderItem.{name}" for name in ITEM_UNSUPPORTED if getattr(item, name)] + [
        f"productOrderItem.product.{name}" for name in PRODUCT_UNSUPPORTED if item.product and getattr(item.product, name)]
    if unsupported:
        raise_if([violation("order.create.attribute_unsupported", f"not kept on an order: {', '.join(unsupported)}",
                            attributes=unsupported)])
    product = item.product or ProductIn()
    offering = item.productOffering or product.productOffering
    found = []
    if item.action == "noChange":
        found.append(violation("order.item.action_supported", "action noChange orders nothing: use add, modify "
                               "or delete", action=item.action))
    if item.quantity != 1:
        found.append(violation("order.item.quantity_one", "quantity must be 1 (one line per order)",
                               quantity=item.quantity))
    if item.action == "add" and (item.productOffering is None or product.id is not None):
        found.append(violation("order.item.add_takes_offering", "an add item orders a new line from its "
                               "productOffering, not an existing product (modify or delete acts on one)",
                               product_id=product.id))
    if item.action in ("modify", "delete") and product.id is None:
        found.append(violation("order.item.requires_product", f"a {item.action} item names the line in "
                               "product.id", action=item.action))
    if item.action == "modify" and offering is None:
        found.append(violation("order.item.modify_requires_offering", "a modify item names the plan to move to "
                               "in productOffering", product_id=product.id))
    raise_if(found)
    msisdn = next((str(c.value) for c in reversed(product.productCharacteristic) if c.name == "msisdn"), None)
    return ParsedOrder(action=item.action, customer_id=customers[0].id if customers else None,
                       offering_id=offering.id if offering else None, product_id=product.id, msisdn=msisdn)


def order_to_tmf(row: dict, request: Request) -> dict[str, Any]:
    """Map an order row to a TMF622 ProductOrder."""
    state = WIRE_STATE[row["state"]]
    price = Money(row["price_minor"], row["currency"])
    item_price = {"priceType": "recurring", "recurringChargePeriod": f"{row['period_days']} days",
                  "price": {"taxIncludedAmount": {"unit": price.currency, "value": price.major}},
                  "productOfferingPrice": ref(request, "/tmf-api/productCatalogManagement/v4/productOfferingPrice",
                                              row["offering_price_id"], "ProductOfferingPrice")}
    action = row.get("action") or "add"
    prices = None if action == "delete" else [item_price]  # a termination charges nothing
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
            "id": "1", "action": action, "quantity": 1, "state": state, "@type": "ProductOrderItem",
            "productOffering": ref(request, "/tmf-api/productCatalogManagement/v4/productOffering",
                                   row["offering_id"], "ProductOffering"),
            "product": product, **({"itemPrice": prices} if prices else {}),
        }],
        "orderTotalPrice": prices,
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
