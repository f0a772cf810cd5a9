"""Validate our response bodies against the official TMF v4 Swagger definitions.

Every response the `api` fixture's client receives under `/tmf-api/` is checked against the
definition of the resource its path names (list items one by one, errors against `Error`), so
drift from the spec fails the test that produced it. Specs are read from the shared folder
(`BSS_TMF_SPECS_DIR`, default `../shared/tmf/specs`) — never copied into the repository.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from core.settings import get_settings
from domain.events import SPEC_FILES as HUB_SPECS

# (api base path, first path segment) -> (spec file, definition)
RESOURCES: dict[tuple[str, str], tuple[str, str]] = {
    ("productCatalogManagement/v4", "productOffering"): ("TMF620-ProductCatalog-v4.0.0.swagger.json", "ProductOffering"),
    ("productCatalogManagement/v4", "productOfferingPrice"): ("TMF620-ProductCatalog-v4.0.0.swagger.json", "ProductOfferingPrice"),
    ("productCatalogManagement/v4", "productSpecification"): ("TMF620-ProductCatalog-v4.0.0.swagger.json", "ProductSpecification"),
    ("productCatalogManagement/v4", "category"): ("TMF620-ProductCatalog-v4.0.0.swagger.json", "Category"),
    ("productCatalogManagement/v4", "catalog"): ("TMF620-ProductCatalog-v4.0.0.swagger.json", "Catalog"),
    ("customerManagement/v4", "customer"): ("TMF629-Customer-v4.0.0.swagger.json", "Customer"),
    ("party/v4", "individual"): ("TMF632-Party-v4.0.0.swagger.json", "Individual"),
    ("party/v4", "organization"): ("TMF632-Party-v4.0.0.swagger.json", "Organization"),
    ("partyInteraction/v4", "partyInteraction"): ("TMF683-PartyInteraction-v4.0.0.swagger.json", "PartyInteraction"),
    ("troubleTicket/v4", "troubleTicket"): ("TMF621-TroubleTicket-v4.0.0.swagger.json", "TroubleTicket"),
    ("resourceInventoryManagement/v4", "resource"): ("TMF639-ResourceInventory-v4.0.0.swagger.json", "Resource"),
    ("paymentMethod/v4", "paymentMethod"): ("TMF670-PaymentMethod-v4.0.0.swagger.json", "PaymentMethod"),
    ("paymentManagement/v4", "payment"): ("TMF676-Payment-v4.0.0.swagger.json", "Payment"),
    ("paymentManagement/v4", "refund"): ("TMF676-Payment-v4.0.0.swagger.json", "Refund"),
    ("productOrderingManagement/v4", "productOrder"): ("TMF622-ProductOrdering-v4.0.0.swagger.json", "ProductOrder"),
    ("productOrderingManagement/v4", "cancelProductOrder"): ("TMF622-ProductOrdering-v4.0.0.swagger.json", "CancelProductOrder"),
    ("serviceOrdering/v4", "serviceOrder"): ("TMF641-ServiceOrdering-v4.0.0.swagger.json", "ServiceOrder"),
    ("serviceInventory/v4", "service"): ("TMF638-ServiceInventory-v4.0.0.swagger.json", "Service"),
    ("ServiceActivationAndConfiguration/v4", "service"): ("TMF640-ServiceActivation-v4.0.0.swagger.json", "Service"),
    ("productInventory/v4", "product"): ("TMF637-ProductInventory-v4.0.0.swagger.json", "Product"),
    ("prepayBalanceManagement/v4", "bucket"): ("TMF654-PrepayBalance-v4.0.0.swagger.json", "Bucket"),
    ("prepayBalanceManagement/v4", "topupBalance"): ("TMF654-PrepayBalance-v4.0.0.swagger.json", "TopupBalance"),
    ("prepayBalanceManagement/v4", "adjustBalance"): ("TMF654-PrepayBalance-v4.0.0.swagger.json", "AdjustBalance"),
    ("usageManagement/v4", "usage"): ("TMF635-UsageManagement-v4.0.0.swagger.json", "Usage"),
    ("usageManagement/v4", "usageSpecification"): ("TMF635-UsageManagement-v4.0.0.swagger.json", "UsageSpecification"),
    ("customerBillManagement/v4", "customerBill"): ("TMF678-CustomerBill-v4.0.0.swagger.json", "CustomerBill"),
    ("customerBillManagement/v4", "customerBillOnDemand"): ("TMF678-CustomerBill-v4.0.0.swagger.json", "CustomerBillOnDemand"),
    ("customerBillManagement/v4", "appliedCustomerBillingRate"): ("TMF678-CustomerBill-v4.0.0.swagger.json", "AppliedCustomerBillingRate"),
}
# Every TMF API's listener registration (`POST …/hub`, apis/tmf_hub.py) answers its spec's EventSubscription.
RESOURCES.update({(base.removeprefix("/tmf-api/"), "hub"): (spec, "EventSubscription")
                  for base, spec in HUB_SPECS.items()})

# Seen during the run: (spec file, definition) -> number of bodies validated.
VALIDATED: dict[tuple[str, str], int] = {}


@cache
def _spec(spec_file: str) -> dict[str, Any]:
    return json.loads((get_settings().tmf_specs_dir / spec_file).read_text())


@cache
def validator(spec_file: str, definition: str) -> Draft4Validator:
    """A Draft 4 validator for one definition of a Swagger 2.0 spec, resolving its local refs."""
    spec = _spec(spec_file)
    resource = Resource.from_contents(spec, default_specification=DRAFT4)
    registry = Registry().with_resource(uri=spec_file, resource=resource)
    schema = {"$ref": f"{spec_file}#/definitions/{definition}"}
    return Draft4Validator(schema, registry=registry)


def resource_for(path: str) -> tuple[str, str] | None:
    """Return (spec file, definition) for a `/tmf-api/...` path, or None if not covered."""
    if not path.startswith("/tmf-api/"):
        return None
    rest = path[len("/tmf-api/"):].strip("/").split("/")
    if len(rest) < 3:
        return None
    return RESOURCES.get((f"{rest[0]}/{rest[1]}", rest[2]))


def validate_body(path: str, status: int, body: Any) -> None:
    """Raise AssertionError listing every schema error of a TMF response body."""
    target = resource_for(path)
    if target is None:
        return
    spec_file, definition = target
    if status >= 400:
        definition = "Error"
    items = body if isinstance(body, list) else [body]
    for item in items:
        errors = sorted(validator(spec_file, definition).iter_errors(item), key=lambda e: list(e.path))
        if errors:
            details = "; ".join(f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors[:5])
            raise AssertionError(f"{path} does not conform to {spec_file}#{definition}: {details}")
        VALIDATED[(spec_file, definition)] = VALIDATED.get((spec_file, definition), 0) + 1
