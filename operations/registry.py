"""The registry: every capability once, as an `Operation` the CLI, the agent and the portals share.

An operation is a plain function `def create(client, args: CustomerCreate) -> dict` that makes its
HTTP call(s) through our typed client, registered with `@operation("customer.create", scope=…,
routes=[…])`: its name is `domain.verb`, its input model is the annotation of `args`, its one-line
description is the first line of its docstring, and `routes` lists the API routes it reaches
(`"POST /tmf-api/…/customer"`), which the parity tests hold against the app's route table.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, get_type_hints

from pydantic import BaseModel, ConfigDict

from core.scopes import Scope


class Client(Protocol):
    """What an operation needs of `core.api_client.BssClient` (tests may hand in any such client)."""

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """Send a request; return the decoded JSON body or raise `ApiError`."""
        ...


Run = Callable[[Client, Any], Any]


class Input(BaseModel):
    """The base of every operation's input model.

    Built on first use, not at import: `bss` makes every command from the registry at each start,
    and building ~100 validators it will not use costs more than the rest of the start-up.
    """

    model_config = ConfigDict(defer_build=True)


class NoInput(Input):
    """This operation takes no input."""


@dataclass(frozen=True)
class Operation:
    """One capability: its name, input model, description, scope, HTTP call and routes."""

    name: str
    description: str
    input: type[BaseModel]
    scope: Scope
    run: Run
    routes: tuple[str, ...]
    destructive: bool = False
    # Takes money from a card. The CLI runs it as typed (the operator asked for exactly that); the agent
    # proposes it and waits for a confirm, as for a destructive one.
    charges: bool = False
    # Fields given positionally on the command line (ids), in order; every other field is an option.
    arguments: tuple[str, ...] = ()
    # The result's shape for the agent and the portals: "object" (one TMF resource) or "list".
    result: str = "object"
    # A destructive operation's question (formatted with the input) and what is said when it is declined.
    confirm: str = ""
    declined: str = "nothing done"
    help: str = field(default="", compare=False)  # the rest of the docstring, for `--help`

    @property
    def domain(self) -> str:
        """The part of the name before the dot (`customer`)."""
        return self.name.split(".", 1)[0]

    @property
    def needs_confirm(self) -> bool:
        """Whether the agent must propose it and wait for a confirm (destructive, or it takes money)."""
        return self.destructive or self.charges

    @property
    def tool_name(self) -> str:
        """The name the agent's model calls it by (function names allow no dots): `customer__attest_kyc`."""
        return self.name.replace(".", "__")

    @property
    def verb(self) -> str:
        """The part of the name after the dot (`attest_kyc`)."""
        return self.name.split(".", 1)[1]

    def __call__(self, client: Client, args: BaseModel | dict[str, Any] | None = None, **values: Any) -> Any:
        """Validate the input (a model, a dict or keywords) and make the call."""
        model = args if isinstance(args, self.input) else self.input.model_validate({**(args or {}), **values})
        return self.run(client, model)


REGISTRY: dict[str, Operation] = {}


def operation(name: str, *, scope: Scope, routes: list[str], destructive: bool = False, charges: bool = False,
              arguments: tuple[str, ...] = (), result: str = "object", confirm: str = "",
              declined: str = "nothing done") -> Callable[[Run], Operation]:
    """Register the decorated `def verb(client, args: Model)` as the operation `name`."""

    def register(run: Run) -> Operation:
        if name in REGISTRY:
            raise ValueError(f"operation {name} is defined twice")
        hints = get_type_hints(run)
        model = hints.get("args")
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"{name}: annotate `args` with the operation's pydantic input model")
        doc = inspect.getdoc(run) or ""
        summary, _, rest = doc.partition("\n")
        if not summary:
            raise ValueError(f"{name}: a one-line docstring is the operation's description")
        unknown = set(arguments) - set(model.model_fields)
        if unknown:
            raise ValueError(f"{name}: arguments {sorted(unknown)} are not fields of {model.__name__}")
        op = Operation(name=name, description=summary.strip(), input=model, scope=scope, run=run,
                       routes=tuple(routes), destructive=destructive, charges=charges, arguments=arguments,
                       result=result,
                       confirm=confirm, declined=declined, help=rest.strip())
        REGISTRY[name] = op
        return op

    return register


def load_all() -> dict[str, Operation]:
    """Import every operations module (they register on import) and return the registry."""
    import importlib
    import pkgutil

    import operations

    for info in pkgutil.iter_modules(operations.__path__):
        if info.name not in ("registry",) and not info.name.startswith("_"):
            importlib.import_module(f"operations.{info.name}")
    return REGISTRY
