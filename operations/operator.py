"""Operator operations: the CSR console's logins (`bss operator add|list|disable`), over `/portal-api/v1/operator`.

Only the CLI holds `operator:admin`. The password goes to the API, which hashes it (argon2id) and never
returns it; nothing here keeps or prints it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from core.scopes import Scope
from operations.registry import Client, Input, NoInput, operation

OPERATOR = "/portal-api/v1/operator"
USERNAME = r"^[a-z][a-z0-9._-]{1,31}$"


class AddOperator(Input):
    """A CSR console login: for an existing member of staff (--agent-id), or a new one (name, email, role)."""

    username: str = Field(pattern=USERNAME, description="Login name: lower case, 2-32 characters (a-z 0-9 . _ -).")
    password: str = Field(min_length=12, max_length=200, description="At least 12 characters; hashed by the API.",
                          json_schema_extra={"prompt": "Password", "secret": True})
    name: str | None = Field(default=None, min_length=1, max_length=120, description="Full name (new staff).")
    email: str | None = Field(default=None, min_length=3, max_length=254, description="Work email (new staff).")
    role: Literal["csr", "supervisor", "engineer"] | None = Field(default=None,
                                                                 description="csr | supervisor | engineer (new staff).")
    agent_id: str | None = Field(default=None, pattern=r"^AG-[A-Z0-9-]{1,40}$",
                                 description="An existing member of staff (AG-…) instead of name, email and role.")

    @model_validator(mode="after")
    def _who(self) -> AddOperator:
        if self.agent_id is None and (self.name is None or self.email is None or self.role is None):
            raise ValueError("give --agent-id of existing staff, or --name, --email and --role")
        return self


@operation("operator.add", scope=Scope.OPERATOR_ADMIN, routes=[f"POST {OPERATOR}"], arguments=("username",))
def add(client: Client, args: AddOperator) -> Any:
    """Give a member of care staff a CSR console login (password hashed by the API)."""
    body = {"username": args.username, "password": args.password, "agentId": args.agent_id, "name": args.name,
            "email": args.email, "role": args.role}
    return client.request("POST", OPERATOR, json={k: v for k, v in body.items() if v is not None})


@operation("operator.list", scope=Scope.OPERATOR_ADMIN, routes=[f"GET {OPERATOR}"], result="list")
def list_(client: Client, args: NoInput) -> Any:
    """List CSR console logins: username, name, role, whether disabled."""
    return client.request("GET", OPERATOR)


class DisableOperator(Input):
    """Which login."""

    username: str = Field(pattern=USERNAME, description="Login name.")


@operation("operator.disable", scope=Scope.OPERATOR_ADMIN, routes=[f"POST {OPERATOR}/{{username}}/disable"],
           destructive=True, arguments=("username",), confirm="Disable operator {username}? Their sessions end now.",
           declined="not disabled")
def disable(client: Client, args: DisableOperator) -> Any:
    """Disable a CSR console login; its open sessions end at once."""
    return client.request("POST", f"{OPERATOR}/{args.username}/disable")
