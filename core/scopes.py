"""What each surface may do: the scopes, and the scope set each surface's token carries.

A route declares the one scope it needs (apis/routing.py); a call is let through when the scope is in
the set of the token's surface. A call made on behalf of a customer (`X-BSS-On-Behalf-Of`) is narrowed
to `CUSTOMER_SCOPES`, whatever its surface: those are the scopes whose resources have one owner the
API can check (apis/ownership.py), plus the public ones.
"""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    """Every scope a route can require."""

    HEALTH = "health:read"
    CATALOG_READ = "catalog:read"
    CATALOG_ADMIN = "catalog:admin"
    CLOCK_READ = "clock:read"
    SIGNUP = "customer:signup"
    CUSTOMER_READ = "customer:read"
    CUSTOMER_WRITE = "customer:write"
    CUSTOMER_CLOSE = "customer:close"
    CASE_READ = "case:read"
    CASE_WRITE = "case:write"
    CASE_MANAGE = "case:manage"
    TICKET_READ = "ticket:read"
    TICKET_WRITE = "ticket:write"
    ORDER_READ = "order:read"
    ORDER_WRITE = "order:write"
    LINE_READ = "line:read"
    LINE_WRITE = "line:write"
    USAGE_READ = "usage:read"
    USAGE_INGEST = "usage:ingest"
    PAYMENT_READ = "payment:read"
    PAYMENT_METHOD_WRITE = "payment_method:write"
    PAYMENT_CHARGE = "payment:charge"
    PAYMENT_REFUND = "payment:refund"
    BILL_READ = "bill:read"
    BILL_ISSUE = "bill:issue"  # a bill on demand (TMF678 customerBillOnDemand): care staff only
    BALANCE_ADJUST = "balance:adjust"  # a goodwill credit or correction to a bucket (TMF654 adjustBalance)
    INVENTORY_READ = "inventory:read"
    INVENTORY_WRITE = "inventory:write"
    SERVICE_READ = "service:read"
    PROVISIONING_READ = "provisioning:read"
    PROVISIONING_WRITE = "provisioning:write"
    OPS_NETWORK = "ops:network"
    OPS_CLOCK = "ops:clock"
    OPS_TRACE = "ops:trace"
    OPS_DIAGNOSTICS = "ops:diagnostics"
    PORTAL_SESSION = "portal:session"  # the portals' login codes, sessions and step-up (/portal-api)
    OPERATOR_ADMIN = "operator:admin"  # CSR console accounts (`bss operator …`)
    AGENT_SESSION = "agent:session"  # the agent's conversations, caps and trip-wire look-ups (/agent-api)
    EVENTS_ADMIN = "events:admin"  # TMF hub listeners (POST/DELETE …/hub) and their deliveries (/ops-api/v1/events)


class Surface(StrEnum):
    """The callers that hold a token (the audit row's channel)."""

    CLI = "cli"
    SELF_SERVE = "portal-self-serve"
    CSR = "portal-csr"
    AGENT = "agent"
    SYSTEM = "system"


ALL_SCOPES = frozenset(Scope)

# Needed by anyone, bound or not: what the public part of a portal shows before login.
PUBLIC_SCOPES = frozenset({Scope.HEALTH, Scope.CATALOG_READ, Scope.CLOCK_READ})

# A customer's own account, as the self-serve portal and the agent's customer profile reach it.
# SIGNUP is the one customer scope used *before* there is a customer to bind to.
CUSTOMER_SCOPES = PUBLIC_SCOPES | {
    Scope.SIGNUP, Scope.CUSTOMER_READ, Scope.CUSTOMER_WRITE, Scope.CASE_READ, Scope.CASE_WRITE,
    Scope.ORDER_READ, Scope.ORDER_WRITE, Scope.LINE_READ, Scope.LINE_WRITE, Scope.USAGE_READ,
    Scope.PAYMENT_READ, Scope.PAYMENT_METHOD_WRITE, Scope.BILL_READ,
}

# Scopes a bound call may use without naming one of the customer's resources.
UNBOUND_SCOPES = PUBLIC_SCOPES | {Scope.SIGNUP, Scope.PORTAL_SESSION}

# Care staff: everything but moving the clock, changing the catalog, feeding usage (the network's job)
# and registering event listeners (an integration's job: a hub receives every customer's events).
CSR_SCOPES = ALL_SCOPES - {Scope.OPS_CLOCK, Scope.CATALOG_ADMIN, Scope.USAGE_INGEST, Scope.OPERATOR_ADMIN,
                           Scope.EVENTS_ADMIN}

SURFACE_SCOPES: dict[Surface, frozenset[Scope]] = {
    Surface.CLI: ALL_SCOPES,
    Surface.SYSTEM: ALL_SCOPES,
    Surface.CSR: CSR_SCOPES,
    # The union of the agent's two profiles: the operator profile acts as care staff does, the customer
    # profile as the self-serve portal (and is narrowed to it by the binding).
    # Neither logs people in: portal sessions are the portals' own.
    Surface.AGENT: (CSR_SCOPES | CUSTOMER_SCOPES) - {Scope.PORTAL_SESSION},
    Surface.SELF_SERVE: CUSTOMER_SCOPES | {Scope.PORTAL_SESSION},
}

# Surfaces that authenticate people themselves, so the person they name in `X-BSS-Actor` is believed.
ACTOR_SURFACES = frozenset({Surface.CLI, Surface.CSR, Surface.AGENT})

# Surfaces whose every customer-scoped call must name the customer it acts for.
ALWAYS_BOUND = frozenset({Surface.SELF_SERVE})


def scopes_for(surface: Surface, bound: bool) -> frozenset[Scope]:
    """The scopes a call from `surface` holds; a call on behalf of a customer holds only customer scopes."""
    held = SURFACE_SCOPES[surface]
    return held & CUSTOMER_SCOPES if bound else held
