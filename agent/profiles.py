"""The three profiles: which operations the model is offered, how, and what it is told.

`operator`: every operation of the registry; one that is destructive or takes money
(`Operation.needs_confirm`) is proposed and runs only after the operator's confirm. `customer`: the
operations a customer may do on their own account, none of which takes a customer id (the customer-id
fields are filled with the bound customer, and every call carries `X-BSS-On-Behalf-Of`, so an id of
another customer answers not found); terminating a line and buying an add-on are proposed and need the
customer's confirm too. `browse`: the public catalog only (what a visitor of the self-serve portal's
public pages may ask about before signing in), no customer, nothing that writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from agent.tools import ToolSpec, derived_schema
from operations.registry import load_all

PROFILES = ("operator", "customer", "browse")

# The customer profile's operations, and the fields each one does not offer (beyond the customer id).
CUSTOMER_OPERATIONS: dict[str, tuple[str, ...]] = {
    "customer.show": (),                    # own profile and contact details
    "subscription.list": (),                # own lines
    "subscription.show": (),                # a line with its balances
    "usage.history": (),                    # usage of a line
    "bill.list": (),
    "bill.show": (),
    "bill.document": (),
    "subscription.vas": (),                 # buy a VAS (top-up bundle) for a line; proposed: it takes money
    "subscription.plan_change": (),
    "subscription.cancel_plan_change": (),
    "subscription.terminate": (),           # proposed: needs the customer's confirm
    "catalog.list": ("include_all",),       # the public catalog: what is on sale now
    "catalog.show": (),
    "catalog.vas": (),
    "case.open": (),                        # a case for a human
    "case.list": (),                        # own cases
}
CUSTOMER_ID_FIELDS = ("customer_id",)
# The browse profile's operations (catalog reads, the fields each one does not offer): no account, no writes.
BROWSE_OPERATIONS: dict[str, tuple[str, ...]] = {
    "catalog.list": ("include_all",),
    "catalog.show": (),
    "catalog.vas": (),
}

OPERATOR_PROMPT = """You are the operations assistant of BSS-CLI, a telco BSS, working for a human operator (a CSR or an engineer).
Your tools are the BSS's operations (named domain__verb); each calls the BSS HTTP API, which enforces every rule.
- Look things up before you act; answer from the tools' results, not from memory. Name ids exactly as the API gives them.
- A refusal comes back as {"error": {"code", "message", "context"}}: the code is a stable rule code. Read the message
  and context, fix what you can (another argument, a prerequisite step) and try again; do not repeat a call unchanged.
- Destructive operations and those that take money are not run when you call them: they are proposed and wait
  for the operator's /confirm.
  Propose one at a time and say what it will do.
- Be short and factual.{focus}"""

CUSTOMER_PROMPT = """You are the self-service assistant of a mobile operator, talking with one signed-in customer ({customer}).
Your tools act on this customer's own account only (lines, balances, usage, bills, add-ons, plan changes, the public
catalog, support cases); none takes a customer id — the customer is already known. Never discuss other customers.
- Answer from the tools' results. A refusal comes back as {{"error": {{"code", "message", "context"}}}} with a rule code:
  explain it plainly and, where the context says what would work, offer that instead.
- Terminating a line and buying an add-on are proposed, not done: the customer must confirm them.
- For fraud, a billing dispute, a complaint to the regulator, a lost identity, or a bereavement, open a case for a human.
- Be short and friendly."""

BROWSE_PROMPT = """You are the sales assistant of a prepaid mobile operator, on its public website, talking with a visitor who
has not signed in. Your tools read the public catalog only (plans, their prices and allowances, add-ons); you cannot
see or change any account. Answer from the tools' results. For anything about an account (a line, a bill, a
payment), say the visitor should sign in and ask the assistant there.
- Be short and friendly."""


@dataclass(frozen=True)
class Profile:
    """A profile's tools by tool name."""

    name: str
    specs: dict[str, ToolSpec]

    def spec(self, tool_name: str) -> ToolSpec | None:
        """The spec of a tool the model named, or None when the profile offers no such tool."""
        return self.specs.get(tool_name)


OWN_BOOKKEEPING = ("agent",)
# Console logins (`bss operator …`): the CLI's alone (operator:admin, which the agent's token lacks), and they carry
# passwords, which must never pass through a model.
NOT_FOR_THE_MODEL = (*OWN_BOOKKEEPING, "operator")


@cache
def profile(name: str) -> Profile:
    """The profile `name` (built once per process)."""
    registry = load_all()
    if name == "operator":
        # Every operation but the agent's own bookkeeping (its sessions and notes): the runtime writes
        # those, and a model that could append to its own transcript could rewrite what it did.
        specs = [ToolSpec(op=op, schema=op.input, confirm=op.needs_confirm) for op in registry.values()
                 if op.domain not in NOT_FOR_THE_MODEL]
    elif name == "customer":
        specs = []
        for op_name, hidden in CUSTOMER_OPERATIONS.items():
            op = registry[op_name]
            bound = tuple(f for f in CUSTOMER_ID_FIELDS if f in op.input.model_fields)
            drop = bound + hidden
            schema = derived_schema(op, drop) if drop else op.input
            specs.append(ToolSpec(op=op, schema=schema, bound=bound, hidden=hidden, confirm=op.needs_confirm))
    elif name == "browse":
        specs = []
        for op_name, hidden in BROWSE_OPERATIONS.items():
            op = registry[op_name]
            schema = derived_schema(op, hidden) if hidden else op.input
            specs.append(ToolSpec(op=op, schema=schema, hidden=hidden, confirm=op.needs_confirm))
    else:
        raise ValueError(f"unknown profile {name!r}: one of {', '.join(PROFILES)}")
    return Profile(name=name, specs={spec.name: spec for spec in sorted(specs, key=lambda s: s.name)})


def system_prompt(name: str, customer_id: str | None) -> str:
    """The profile's system prompt for this session."""
    if name == "customer":
        return CUSTOMER_PROMPT.format(customer=customer_id)
    if name == "browse":
        return BROWSE_PROMPT
    focus = f"\n- The operator is looking at customer {customer_id}: 'the customer' means them." if customer_id else ""
    return OPERATOR_PROMPT.replace("{focus}", focus)
