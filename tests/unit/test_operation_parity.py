"""Parity between the API, the operations and the CLI (issue #14), from the app's and the CLI's own tables.

A route added without an operation that reaches it, an operation that names a route the app does
not have, an operation without a command, or an input model the agent could not use as a tool
fails here.
"""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator

from apis.app import api_routes, create_app
from apis.routing import access_of
from core.scopes import SURFACE_SCOPES
from operations.registry import REGISTRY, Operation, load_all

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # what OpenAI-style function calling accepts
# Routes a TMF client expects that only ever refuse: an operation for them would hand the agent a tool
# that can only fail. Each names the operation that does what the caller means.
REFUSAL_ONLY = {
    "DELETE /tmf-api/customerManagement/v4/customer/{customer_id}":
        "always 422 customer.delete.has_history: a customer is closed (customer.close), never deleted",
}


# The portals' logins and sessions (portals/session.py calls them): a person logs in through a portal;
# a CLI command or an agent tool for them would only hand out sessions nobody can use.
PORTAL_SESSION_ROUTES = "portal:session"


def _app_routes() -> dict[str, object]:
    return {f"{method} {route.path}": access_of(route).scope
            for route in api_routes(create_app()) for method in route.methods - {"HEAD"}}


ROUTES = _app_routes()
OPERATIONS: list[Operation] = sorted(load_all().values(), key=lambda op: op.name)


def _cli_commands() -> dict[str, str]:
    import cli.main  # noqa: F401 - registering the groups fills COMMANDS
    from cli.operation_command import COMMANDS

    return dict(COMMANDS)


def test_every_non_get_route_is_reached_by_an_operation():
    reached = {route for op in OPERATIONS for route in op.routes}
    missing = sorted(r for r in ROUTES if not r.startswith("GET ") and r not in reached and r not in REFUSAL_ONLY
                     and ROUTES[r] != PORTAL_SESSION_ROUTES)
    assert missing == [], f"API routes no operation reaches: {missing}"
    assert set(REFUSAL_ONLY) <= set(ROUTES) and not set(REFUSAL_ONLY) & reached, "REFUSAL_ONLY is out of date"


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_each_operation_names_only_routes_the_app_has_and_holds_their_scope(op: Operation):
    assert op.routes, f"{op.name} reaches no route"
    unknown = [r for r in op.routes if r not in ROUTES]
    assert unknown == [], f"{op.name} names routes the app does not have: {unknown}"
    scopes = {ROUTES[r] for r in op.routes}
    assert op.scope in scopes, f"{op.name} declares {op.scope}, its routes need {sorted(map(str, scopes))}"
    # Whoever holds the operation's scope can make every call it makes.
    for surface, held in SURFACE_SCOPES.items():
        if op.scope in held:
            assert scopes <= held, f"{surface} may run {op.name} but not all of its calls"


def test_every_operation_has_a_command():
    commands = _cli_commands()
    missing = sorted(op.name for op in OPERATIONS if op.name not in commands)
    assert missing == [], f"operations without a CLI command: {missing}"
    assert len(set(commands.values())) == len(commands), "two operations claim one command"


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_each_input_model_is_a_valid_tool_schema(op: Operation):
    schema = op.input.model_json_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert TOOL_NAME.match(op.tool_name), op.tool_name
    assert 0 < len(op.description) <= 200 and "\n" not in op.description
    for name, prop in schema.get("properties", {}).items():
        assert prop.get("description"), f"{op.name}: field {name} has no description for the model"
    assert not op.destructive or op.name.split(".")[1] != "list", "a list cannot be destructive"
