"""The catalog as the public pages show it: plain rows built from the TMF620 offerings.

Prices come from `activePrice` (minor units, exact); allowances from `prodSpecCharValueUse` in base
units (MB, seconds, SMS), formatted here, so nothing depends on the API's display strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ALLOWANCES = (("data", "Data"), ("voice", "Calls"), ("sms", "SMS"), ("data_roaming", "Roaming data"))


def money(minor: int, currency: str = "SGD") -> str:
    """`SGD 25.00` from 2500."""
    return f"{currency} {minor // 100}.{minor % 100:02d}"


def amount(value: int, unit: str) -> str:
    """A quantity in words: `30 GB`, `500 MB`, `100 min`, `100` (SMS), `unlimited`, `none`."""
    if value < 0:
        return "unlimited"
    if value == 0:
        return "none"
    if unit == "MB":
        return f"{value // 1024} GB" if value % 1024 == 0 else f"{value} MB"
    if unit == "s":
        return f"{value // 60} min" if value % 60 == 0 else f"{value} s"
    return str(value)


def allowances(offering: dict[str, Any]) -> dict[str, str]:
    """Allowance name -> what it gives, in words."""
    found = {}
    for use in offering.get("prodSpecCharValueUse", []):
        value = (use.get("productSpecCharacteristicValue") or [{}])[0]
        if "value" in value:
            found[use["name"]] = amount(int(value["value"]), value.get("unitOfMeasure", ""))
    return found


def expiry(offering: dict[str, Any]) -> str:
    """When an add-on runs out, in words."""
    term = (offering.get("productOfferingTerm") or [{}])[0]
    if term.get("name") == "duration":
        seconds = int(term["duration"]["amount"])
        if seconds % 3600 == 0 and seconds < 7 * 86400:
            return f"lasts {seconds // 3600} hours"
        return f"lasts {seconds // 86400} days" if seconds % 86400 == 0 else f"lasts {seconds} seconds"
    if term.get("name") == "renewalPeriod":
        return "lasts 30 days"
    return "lasts until your plan renews"


@dataclass(frozen=True)
class Offer:
    """One plan or add-on as a page shows it."""

    id: str
    name: str
    description: str
    price: str | None  # None when no price is in force
    price_minor: int | None
    period_days: int | None
    allowances: dict[str, str]
    expiry: str

    @property
    def adds(self) -> str:
        """What an add-on gives: `Data 1 GB`, `Data unlimited`."""
        return ", ".join(f"{label} {self.allowances[key]}" for key, label in ALLOWANCES if key in self.allowances)


def offer(offering: dict[str, Any]) -> Offer:
    """The page's view of one offering."""
    price = offering.get("activePrice") or None
    return Offer(id=offering["id"], name=offering.get("name", offering["id"]),
                 description=offering.get("description") or "",
                 price=money(price["priceMinor"], price.get("currency", "SGD")) if price else None,
                 price_minor=price["priceMinor"] if price else None,
                 period_days=price.get("periodDays") if price else None,
                 allowances=allowances(offering), expiry=expiry(offering))


def offers(offerings: list[dict[str, Any]]) -> list[Offer]:
    """Sellable offerings with a price in force, cheapest first."""
    shown = [offer(o) for o in offerings if o.get("sellableNow", True)]
    return sorted((o for o in shown if o.price_minor is not None), key=lambda o: (o.price_minor, o.id))
