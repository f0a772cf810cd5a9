"""TMF683 Party Interaction: the contact log of customers (`/tmf-api/partyInteraction/v4/partyInteraction`).

Customer writes log their interactions themselves (channel = the API surface that carried them);
POST records one reported by a client (a call, a store visit) against an existing customer.

What the spec's `PartyInteraction_Create` leaves optional is defaulted, never refused with 400: a
`TimePeriod` is all optional, so an `interactionDate` without `startDateTime` (or no `interactionDate`)
starts at its `endDateTime`, else it is the instant of the request (start = end = now, `core.clock`). The one
thing our domain needs that the spec leaves optional, the customer, is asked for with a 422 rule code
(`party_interaction.create.requires_customer`). `direction` is free text in the spec: `inbound` or
`outbound` in any case, else 422 `party_interaction.create.direction_known`; `channel` may be empty (the
API surface that carried the request is then the channel) but names one channel at most
(422 `party_interaction.create.one_channel`). Of the spec's other optional attributes, `@baseType` and
`@schemaLocation` are accepted and ignored, the server-set `creationDate` and `statusChangeDate` are ignored
(we set them), and those we do not keep (`attachment`, `interactionItem`, `interactionRelationship`, `note`)
answer 422 `party_interaction.create.attribute_unsupported` naming them, rather than being dropped silently.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from activities import interaction as interactions
from apis.routing import BssRouter
from apis.tmf import href, iso, list_response, parse_list_query, select_fields, tmf_response
from apis.tmf629_customer import CUSTOMER_PATH
from core import context
from core.db import get_engine
from core.errors import NotFound, PolicyViolation
from core.scopes import Scope
from domain.customer import customer, party_interaction
from policies import customer as rules
from policies.base import raise_if, violation

BASE = "/tmf-api/partyInteraction/v4"
INTERACTION_PATH = f"{BASE}/partyInteraction"
FILTERS = {"id": party_interaction.c.id, "relatedParty.id": party_interaction.c.customer_id,
           "channel": party_interaction.c.channel, "status": party_interaction.c.status,
           "direction": party_interaction.c.direction, "reason": party_interaction.c.reason}

NEWEST_FIRST = (party_interaction.c.start_at.desc(), party_interaction.c.id.desc())

router = BssRouter(prefix=BASE, tags=["TMF683 party interaction"])


class TimePeriodIn(BaseModel):
    """When the interaction happened (both ends optional, as in the spec's `TimePeriod`)."""

    model_config = ConfigDict(extra="forbid")
    startDateTime: AwareDatetime | None = None
    endDateTime: AwareDatetime | None = None


class RefIn(BaseModel):
    """A channel or party reference as TMF clients send it."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=60)
    href: str | None = None
    name: str | None = Field(default=None, max_length=100)
    role: str | None = Field(default=None, max_length=60)
    referredType: str | None = Field(default=None, alias="@referredType")
    type_: str | None = Field(default=None, alias="@type")
    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")


DIRECTIONS = ("inbound", "outbound")
UNSUPPORTED = ("attachment", "interactionItem", "interactionRelationship", "note")


class InteractionCreate(BaseModel):
    """Body of POST /partyInteraction (mandatory attributes of `PartyInteraction_Create`)."""

    model_config = ConfigDict(extra="forbid")
    interactionDate: TimePeriodIn = Field(default_factory=TimePeriodIn)
    reason: str = Field(min_length=1, max_length=200)
    status: str = Field(min_length=1, max_length=40)
    direction: str  # free text in the spec: inbound | outbound, case-insensitive, else 422
    channel: list[RefIn] = Field(default_factory=list)
    relatedParty: list[RefIn] = Field(default_factory=list, max_length=5)
    description: str | None = Field(default=None, max_length=2000)
    type_: str | None = Field(default=None, alias="@type")  # PartyInteraction, else 422 type_known
    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")
    creationDate: str | None = None  # server-set: ignored
    statusChangeDate: str | None = None  # server-set: ignored
    attachment: list[Any] | None = None
    interactionItem: list[Any] | None = None
    interactionRelationship: list[Any] | None = None
    note: list[Any] | None = None


def channel_ref(channel: str) -> dict[str, Any]:
    """A `RelatedChannel` for a channel name (channels have no resource of their own, hence the URN)."""
    return {"id": channel, "href": f"urn:bss-cli:channel:{channel}", "name": channel,
            "@referredType": "Channel"}


def to_tmf(row: Any, request: Request) -> dict[str, Any]:
    """Map an interaction row to TMF683 `PartyInteraction`."""
    period = {"startDateTime": iso(row["start_at"])}
    if row["end_at"]:
        period["endDateTime"] = iso(row["end_at"])
    body = {
        "id": row["id"], "href": href(request, f"{INTERACTION_PATH}/{row['id']}"),
        "@type": "PartyInteraction", "creationDate": iso(row["created_at"]), "interactionDate": period,
        "reason": row["reason"], "description": row["description"], "status": row["status"],
        "statusChangeDate": iso(row["status_changed_at"]), "direction": row["direction"],
        "channel": [channel_ref(row["channel"])],
        "relatedParty": [{"id": row["customer_id"], "role": "customer", "@referredType": "Customer",
                          "href": href(request, f"{CUSTOMER_PATH}/{row['customer_id']}")}],
    }
    if row["actor"]:
        body["note"] = [{"author": row["actor"], "date": iso(row["created_at"]),
                         "text": f"recorded by {row['actor']}"}]
    return {k: v for k, v in body.items() if v is not None}


async def _load(interaction_id: str) -> Any:
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(party_interaction).where(party_interaction.c.id == interaction_id))
               ).mappings().first()
    if row is None:
        raise NotFound("party_interaction", interaction_id)
    return row


@router.post("/partyInteraction", scope=Scope.CUSTOMER_WRITE, status_code=201)
async def create_interaction(body: InteractionCreate, request: Request) -> JSONResponse:
    """Record an interaction with one customer (relatedParty with @referredType Customer)."""
    unsupported = [name for name in UNSUPPORTED if getattr(body, name) is not None]
    if unsupported:
        raise PolicyViolation([violation("party_interaction.create.attribute_unsupported",
                                         f"not kept by this system: {', '.join(unsupported)}",
                                         attributes=unsupported)])
    if body.type_ not in (None, "PartyInteraction"):
        raise PolicyViolation([violation("party_interaction.create.type_known",
                                         f"@type '{body.type_}' is not a kind of interaction we keep",
                                         type=body.type_, known=["PartyInteraction"])])
    direction = body.direction.strip().lower()
    if direction not in DIRECTIONS:
        raise PolicyViolation([violation("party_interaction.create.direction_known",
                                         f"direction '{body.direction}' is neither inbound nor outbound",
                                         direction=body.direction, known=list(DIRECTIONS))])
    if len(body.channel) > 1:
        raise PolicyViolation([violation("party_interaction.create.one_channel",
                                         "channel: one channel per interaction", channels=len(body.channel))])
    customer_ids = [p.id for p in body.relatedParty if p.referredType == "Customer"]
    async with get_engine().connect() as conn:
        found = (await conn.execute(select(customer.c.id).where(customer.c.id.in_(customer_ids)))
                 ).scalars().all()
    raise_if(rules.check_interaction(customer_ids, found))
    channel = (body.channel[0].name or body.channel[0].id) if body.channel else context.current().channel
    row = await interactions.create_interaction(interactions.NewInteraction(
        customer_id=customer_ids[0], reason=body.reason, channel=channel,
        direction=direction, status=body.status, description=body.description,
        start_at=body.interactionDate.startDateTime or body.interactionDate.endDateTime,
        end_at=body.interactionDate.endDateTime))
    return tmf_response(to_tmf(await _load(row["id"]), request), status=201)


@router.get("/partyInteraction", scope=Scope.CUSTOMER_READ, owner_filter="relatedParty.id")
async def list_interactions(request: Request) -> JSONResponse:
    """List interactions, newest first (filters: id, relatedParty.id, channel, status, direction, reason)."""
    query = parse_list_query(request, FILTERS)
    where = [FILTERS[name] == value for name, value in query.filters.items()]
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(party_interaction).where(*where))
                 ).scalar_one()
        rows = (await conn.execute(select(party_interaction).where(*where).order_by(*NEWEST_FIRST)
                                   .offset(query.offset).limit(query.limit))).mappings().all()
    return list_response([to_tmf(row, request) for row in rows], total, query)


@router.get("/partyInteraction/{interaction_id}", scope=Scope.CUSTOMER_READ)
async def get_interaction(interaction_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one interaction."""
    selected = tuple(f.strip() for f in fields.split(",")) if fields else None
    return tmf_response(select_fields(to_tmf(await _load(interaction_id), request), selected))
