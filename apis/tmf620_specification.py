"""TMF620 `productSpecification` writes: POST (add a specification) and PATCH (rename, describe, launch, retire).

Every specification describes the same four allowances (data, voice, SMS, roaming data); an offering
standing on it says how much of each. So a create keeps `name`, `description` and `lifecycleStatus`
(`In design` or `Active`, default `Active`); `productSpecCharacteristic` is accepted when it only names
those allowances, `isBundle` when false; the server-set `lastUpdate` and `@baseType`, `@schemaLocation`
are ignored. The other optional attributes of `ProductSpecification_Create` (brand, productNumber,
version, attachment, relationships, related party, resource/service specifications, target schema,
validFor), another `@type` and a lifecycle other than those two are not kept: 422
`catalog.specification.attribute_unsupported` names them (a PATCH the same, any of our three lifecycles). The id is `id`
when given (an extension, like an offering's) or `SPEC_<NAME>`. A specification that offerings not
yet retired stand on cannot be retired (422 `catalog.specification.in_use`); a retired one is frozen.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from activities import catalog_admin as admin
from apis.catalog_cache import catalog_changed
from apis.routing import BssRouter
from apis.tmf import tmf_response
from apis.tmf620_catalog import BASE, load_body, parse_lifecycle, specifications_to_tmf
from core.errors import MalformedRequest, PolicyViolation
from core.scopes import Scope
from domain.catalog import AllowanceType, LifecycleStatus, product_specification
from policies.base import violation

UNSUPPORTED = ("brand", "productNumber", "version", "attachment", "bundledProductSpecification",
               "productSpecificationRelationship", "relatedParty", "resourceSpecification", "serviceSpecification",
               "targetProductSchema", "validFor")

CREATED_STATES = (LifecycleStatus.IN_DESIGN, LifecycleStatus.ACTIVE)  # a specification starts in one of these

router = BssRouter(prefix=BASE, tags=["TMF620 product catalog"])


class CharacteristicIn(BaseModel):
    """A `ProductSpecificationCharacteristic`: only its name matters (the allowances are fixed)."""

    model_config = ConfigDict(extra="allow")
    name: str | None = Field(default=None, max_length=60)


class SpecificationAttributes(BaseModel):
    """What `ProductSpecification_Create` and `_Update` share: kept, ignored, or refused with 422."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    description: str | None = Field(default=None, max_length=500)
    lifecycleStatus: str | None = None
    isBundle: bool | None = None
    productSpecCharacteristic: list[CharacteristicIn] | None = None
    lastUpdate: str | None = None  # server-set: ignored
    type_: str | None = Field(default=None, alias="@type")
    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")
    brand: Any = None
    productNumber: Any = None
    version: Any = None
    attachment: Any = None
    bundledProductSpecification: Any = None
    productSpecificationRelationship: Any = None
    relatedParty: Any = None
    resourceSpecification: Any = None
    serviceSpecification: Any = None
    targetProductSchema: Any = None
    validFor: Any = None

    def refuse_unsupported(self, states: tuple[LifecycleStatus, ...]) -> None:
        """422 `catalog.specification.attribute_unsupported` naming what we do not keep."""
        found = [name for name in UNSUPPORTED if getattr(self, name) is not None]
        if self.isBundle:
            found.append("isBundle")
        if self.type_ not in (None, "ProductSpecification"):
            found.append("@type")
        if self.lifecycleStatus is not None and parse_lifecycle(self.lifecycleStatus) not in states:
            found.append("lifecycleStatus")
        allowances = {a.value for a in AllowanceType}
        if any(c.name not in allowances for c in self.productSpecCharacteristic or ()):
            found.append("productSpecCharacteristic")
        if found:
            raise PolicyViolation([violation(
                "catalog.specification.attribute_unsupported",
                f"not kept by this system: {', '.join(found)} (every specification describes the allowances "
                f"{', '.join(a.value for a in AllowanceType)})", attributes=found)])


class SpecificationCreate(SpecificationAttributes):
    """Body of POST /productSpecification (`ProductSpecification_Create`)."""

    id: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]{2,39}$")
    name: str = Field(min_length=1, max_length=100)


class SpecificationUpdate(SpecificationAttributes):
    """Body of PATCH /productSpecification/{id} (`ProductSpecification_Update`): name, description, lifecycle."""

    name: str | None = Field(default=None, min_length=1, max_length=100)


def _new(body: SpecificationCreate) -> admin.NewSpecification:
    body.refuse_unsupported(CREATED_STATES)
    status = parse_lifecycle(body.lifecycleStatus or "Active")
    assert status is not None  # an unknown one is unsupported, above
    slug = re.sub(r"[^A-Z0-9]+", "_", body.name.upper()).strip("_")[:30]
    return admin.NewSpecification(id=body.id or f"SPEC_{slug}", name=body.name, description=body.description,
                                  lifecycle_status=status)


async def _body(specification_id: str, request: Request) -> dict[str, Any]:
    return await load_body(product_specification, specification_id, "product_specification", specifications_to_tmf,
                           request)


@router.post("/productSpecification", scope=Scope.CATALOG_ADMIN, status_code=201)
async def create_specification(body: SpecificationCreate, request: Request) -> JSONResponse:
    """Add a product specification (`add-spec`); offerings then stand on it."""
    new = _new(body)
    await admin.precheck(admin.check_specification, new)
    await admin.add_specification(new)
    catalog_changed(request)
    return tmf_response(await _body(new.id, request), status=201)


@router.patch("/productSpecification/{specification_id}", scope=Scope.CATALOG_ADMIN)
async def patch_specification(specification_id: str, body: SpecificationUpdate, request: Request) -> JSONResponse:
    """Rename or describe a specification, launch or retire it (`update-spec`)."""
    body.refuse_unsupported(tuple(LifecycleStatus))
    changes: dict[str, Any] = {}
    for wire in ("name", "description"):
        if wire in body.model_fields_set:
            if getattr(body, wire) is None and wire == "name":
                raise MalformedRequest("request.malformed", "name: cannot be removed", {"field": "name"})
            changes[wire] = getattr(body, wire)
    patch = admin.Patch(changes=changes, lifecycle_status=parse_lifecycle(body.lifecycleStatus)
                        if body.lifecycleStatus else None)
    if changes or patch.lifecycle_status is not None:
        await admin.precheck(admin.check_specification_patch, specification_id, patch)
        await admin.change_specification(specification_id, patch)
        catalog_changed(request)
    return tmf_response(await _body(specification_id, request))
