"""Inventory operations: the MSISDN and eSIM pools (list, show, summary), the numbers a new customer may pick,
adding numbers and eSIM profiles, moving a unit by hand."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from core.api_error import ApiError
from core.scopes import Scope
from operations.registry import Client, Input, NoInput, operation

RESOURCE = "/tmf-api/resourceInventoryManagement/v4/resource"
RANGE = "/inventory-api/v1/msisdn/range"
SUMMARY = "/inventory-api/v1/summary"
AVAILABLE = "/inventory-api/v1/msisdn/available"
ESIM_BATCH = "/inventory-api/v1/esim/batch"
MsisdnState = Literal["available", "reserved", "assigned", "quarantine", "ported_out"]
EsimState = Literal["available", "reserved", "downloaded", "activated", "suspended", "recycled"]
Number = Field(pattern=r"^[0-9]{8,15}$", description="The number (MSISDN).")
Limit = Field(default=50, ge=1, le=1000, description="At most this many rows.")


class ListNumbers(Input):
    """Which numbers."""

    state: MsisdnState | None = Field(default=None,
                                      description="available | reserved | assigned | quarantine | ported_out.")
    limit: int = Limit


@operation("inventory.msisdn_list", scope=Scope.INVENTORY_READ, routes=[f"GET {RESOURCE}"], result="list")
def msisdn_list(client: Client, args: ListNumbers) -> Any:
    """List numbers in number order, with the pool's availability."""
    return client.request("GET", RESOURCE, params={"@type": "MSISDN", "state": args.state, "limit": args.limit})


class AvailableNumbers(Input):
    """Which available numbers to offer."""

    contains: str | None = Field(default=None, pattern=r"^[0-9]{1,15}$",
                                 description="Only numbers with these digits in them (a whole number checks that one).")
    limit: int = Field(default=6, ge=1, le=20, description="At most this many numbers.")


@operation("inventory.msisdn_available", scope=Scope.SIGNUP, routes=[f"GET {AVAILABLE}"], result="list")
def msisdn_available(client: Client, args: AvailableNumbers) -> Any:
    """Numbers a new customer may pick (available only, numbers only; from a random place in the pool)."""
    return client.request("GET", AVAILABLE, params={"contains": args.contains, "limit": args.limit})


class ListProfiles(Input):
    """Which eSIM profiles."""

    state: EsimState | None = Field(
        default=None, description="available | reserved | downloaded | activated | suspended | recycled.")
    limit: int = Limit


@operation("inventory.esim_list", scope=Scope.INVENTORY_READ, routes=[f"GET {RESOURCE}"], result="list")
def esim_list(client: Client, args: ListProfiles) -> Any:
    """List eSIM profiles in ICCID order, with the pool's availability."""
    return client.request("GET", RESOURCE, params={"@type": "ESimProfile", "state": args.state,
                                                   "limit": args.limit})


def _of_type(client: Client, ident: str, expected: str) -> Any:
    found = client.request("GET", f"{RESOURCE}/{ident}")
    if found.get("@type") != expected:
        raise ApiError(404, {"code": "resource.not_found", "status": "404", "reason": "Not found",
                             "message": f"{ident} is a {found.get('@type')}, not a {expected}"})
    return found


class ShowNumber(Input):
    """Which number."""

    number: str = Field(min_length=1, description="The number (MSISDN).")


@operation("inventory.msisdn_show", scope=Scope.INVENTORY_READ, routes=[f"GET {RESOURCE}/{{resource_id}}"],
           arguments=("number",))
def msisdn_show(client: Client, args: ShowNumber) -> Any:
    """Show one number: state, holder, quarantine end, range."""
    return _of_type(client, args.number, "MSISDN")


class ShowProfile(Input):
    """Which eSIM profile."""

    iccid: str = Field(min_length=1, description="The profile's ICCID.")


@operation("inventory.esim_show", scope=Scope.INVENTORY_READ, routes=[f"GET {RESOURCE}/{{resource_id}}"],
           arguments=("iccid",))
def esim_show(client: Client, args: ShowProfile) -> Any:
    """Show one eSIM profile (ICCID, IMSI and activation code masked on the card; --json has them in full)."""
    return _of_type(client, args.iccid, "ESimProfile")



@operation("inventory.summary", scope=Scope.INVENTORY_READ, routes=[f"GET {SUMMARY}"])
def summary(client: Client, args: NoInput) -> Any:
    """Count each pool (numbers, eSIM profiles) by state, with its low watermark and whether it is low now."""
    return client.request("GET", SUMMARY)


class AddRange(Input):
    """A block of numbers, first to last inclusive."""

    first: str = Field(pattern=r"^[0-9]{8,15}$", description="First number of the block.")
    last: str = Field(pattern=r"^[0-9]{8,15}$", description="Last number of the block (inclusive).")


@operation("inventory.add_range", scope=Scope.INVENTORY_WRITE, routes=[f"POST {RANGE}"], destructive=True,
           arguments=("first", "last"), confirm="Add {first} – {last} to the pool?", declined="nothing added")
def add_range(client: Client, args: AddRange) -> Any:
    """Add every number from FIRST to LAST to the pool (a repeat adds nothing; existing numbers are skipped)."""
    return client.request("POST", RANGE, json={"first": args.first, "last": args.last})


class AddNumber(Input):
    """One number to add to the pool."""

    number: str = Number
    description: str | None = Field(default=None, max_length=500, description="Why or where it comes from.")


@operation("inventory.msisdn_add", scope=Scope.INVENTORY_WRITE, routes=[f"POST {RESOURCE}"],
           arguments=("number",))
def msisdn_add(client: Client, args: AddNumber) -> Any:
    """Add one number to the pool, available."""
    body = {"name": args.number, "@type": "MSISDN",
            **({"description": args.description} if args.description else {})}
    return client.request("POST", RESOURCE, json=body)


class Move(Input):
    """A unit and the state an operator moves it to."""

    resource_id: str = Field(pattern=r"^[0-9]{8,22}$", description="The number (MSISDN) or the profile's ICCID.")
    state: Literal["available", "quarantine", "ported_out", "suspended", "activated", "recycled"] = Field(
        description="Number: quarantine (from assigned), available (recycle from quarantine, or release a"
                    " reservation of a failed or cancelled order), ported_out. Profile: available (release, the"
                    " same way), suspended, activated (resume), recycled. Never a unit of a live line.")
    note: str | None = Field(default=None, min_length=1, max_length=500, description="Why (kept in the audit).")


@operation("inventory.move", scope=Scope.INVENTORY_WRITE, routes=[f"PATCH {RESOURCE}/{{resource_id}}"],
           destructive=True, arguments=("resource_id", "state"), confirm="Move {resource_id} to {state}?",
           declined="not moved")
def move(client: Client, args: Move) -> Any:
    """Move a number or an eSIM profile by hand along its lifecycle (never a live line's, nor an order's own move).

    The order flow's own moves (reserve, assign, activate) and the units of a pending, active or blocked
    line are refused with a rule code."""
    body: dict[str, Any] = {"resourceCharacteristic": [{"name": "state", "value": args.state}]}
    if args.note:
        body["note"] = [{"text": args.note}]
    return client.request("PATCH", f"{RESOURCE}/{args.resource_id}", json=body)


class AddProfile(Input):
    """One eSIM profile to add to the pool."""

    iccid: str = Field(pattern=r"^89[0-9]{17,18}$", description="ICCID (89…, 19–20 digits).")
    imsi: str = Field(pattern=r"^[0-9]{15}$", description="IMSI (15 digits).")
    matching_id: str = Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9-]+$",
                             description="SM-DP+ matching id of the activation code.")
    ki_ref: str = Field(min_length=1, max_length=120, description="Where the HSM keeps the profile's key.")
    smdp_address: str | None = Field(default=None, min_length=3, max_length=255,
                                     description="SM-DP+ address (ours when absent).")


@operation("inventory.esim_add", scope=Scope.INVENTORY_WRITE, routes=[f"POST {RESOURCE}"], arguments=("iccid",))
def esim_add(client: Client, args: AddProfile) -> Any:
    """Add one eSIM profile to the pool, available (a vendor's whole file: `inventory esim load`)."""
    chars = [{"name": "imsi", "value": args.imsi}, {"name": "matchingId", "value": args.matching_id},
             {"name": "kiRef", "value": args.ki_ref}]
    if args.smdp_address:
        chars.append({"name": "smdpAddress", "value": args.smdp_address})
    return client.request("POST", RESOURCE, json={"@type": "ESimProfile", "name": args.iccid,
                                                  "resourceCharacteristic": chars})


class EsimProfileLoad(Input):
    """One profile of a vendor's batch."""

    iccid: str = Field(pattern=r"^89[0-9]{17,18}$", description="ICCID (89…, 19–20 digits).")
    imsi: str = Field(pattern=r"^[0-9]{15}$", description="IMSI (15 digits).")
    matching_id: str = Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9-]+$",
                             description="SM-DP+ matching id of the activation code.")
    ki_ref: str = Field(min_length=1, max_length=120, description="Where the HSM keeps the profile's key.")
    smdp_address: str | None = Field(default=None, description="SM-DP+ address (ours when absent).")


class LoadProfiles(Input):
    """A vendor's batch of eSIM profiles."""

    profiles: list[EsimProfileLoad] = Field(min_length=1, max_length=10_000,
                                            description="The profiles, up to 10,000 in one batch.")


@operation("inventory.esim_load", scope=Scope.INVENTORY_WRITE, routes=[f"POST {ESIM_BATCH}"])
def esim_load(client: Client, args: LoadProfiles) -> Any:
    """Add a vendor's batch of eSIM profiles to the pool (profiles already known are skipped)."""
    return client.request("POST", ESIM_BATCH, json={"profiles": [
        {"iccid": p.iccid, "imsi": p.imsi, "matchingId": p.matching_id, "kiRef": p.ki_ref,
         **({"smdpAddress": p.smdp_address} if p.smdp_address else {})} for p in args.profiles]})
