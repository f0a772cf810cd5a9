"""The YAML schema of a scenario, validated with pydantic (unknown keys are errors, not silence)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from cli.scenario.variables import PathError, compile_path
from core import durations

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "starts_with", "not_null", "any_match",
             "none_match")
_MILLIS = re.compile(r"(\d+)ms")


def parse_duration(value: Any) -> float:
    """Seconds in `value`: a number of seconds, `500ms`, or a human duration such as `30s`, `5m`, `1d12h`."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text like 500ms, 30s, 5m, 1h, 30d")  # noqa: TRY004 - pydantic reports ValueErrors
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    text = str(value).strip()
    if millis := _MILLIS.fullmatch(text):
        return int(millis.group(1)) / 1000
    return durations.parse_duration(text).total_seconds()


def _check_duration(value: Any) -> str:
    durations.parse_duration(str(value))  # the notation `bss clock advance` takes
    return str(value)


Seconds = Annotated[float, BeforeValidator(parse_duration)]
DurationText = Annotated[str, BeforeValidator(_check_duration)]


def _check_path(path: str) -> str:
    if "{{" not in path:  # a path built from variables is checked when the step runs
        try:
            compile_path(path)
        except PathError as exc:
            raise ValueError(str(exc)) from None
    return path


JsonPath = Annotated[str, AfterValidator(_check_path)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Assertion(_Strict):
    """One check of the value at `path` (JSONPath, `$` = the whole result) with exactly one operator."""

    path: JsonPath = "$"
    eq: Any = None
    ne: Any = None
    gt: Any = None
    gte: Any = None
    lt: Any = None
    lte: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    contains: Any = None
    starts_with: str | None = None
    not_null: Literal[True] | None = None
    any_match: list[Assertion] | None = None
    none_match: list[Assertion] | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_match_may_be_a_single_assertion(cls, data: Any) -> Any:
        for key in ("any_match", "none_match"):
            if isinstance(data, dict) and isinstance(data.get(key), dict):
                data = {**data, key: [data[key]]}
        return data

    @model_validator(mode="after")
    def _exactly_one_operator(self) -> Assertion:
        used = self.operators_used()
        if len(used) != 1:
            found = ", ".join(used) or "none"
            raise ValueError(f"an assertion takes exactly one operator of {', '.join(OPERATORS)} (found: {found})")
        return self

    def operators_used(self) -> list[str]:
        """The operator keys written in the YAML (an explicit `eq: null` counts)."""
        return [op for op in OPERATORS if (op if op != "in" else "in_") in self.model_fields_set]

    @property
    def operator(self) -> str:
        """The assertion's operator name."""
        return self.operators_used()[0]

    @property
    def expected(self) -> Any:
        """The operand written for the operator."""
        return getattr(self, "in_" if self.operator == "in" else self.operator)


class Poll(_Strict):
    """Repeat the step until its checks hold: every `interval`, for at most `timeout`."""

    interval: Seconds = 0.5
    timeout: Seconds = 30.0


class ApiCall(_Strict):
    """An operation on the BSS API (base URL and surface token from settings)."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str
    body: Any = None
    params: dict[str, Any] | None = None
    surface: Literal["cli", "portal-self-serve", "portal-csr", "agent", "system"] = "cli"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return _method_and_target(data, "path")


class HttpCall(_Strict):
    """A request to any URL (the portals, a health endpoint)."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    url: str
    body: Any = None
    form: dict[str, Any] | None = None
    headers: dict[str, str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return _method_and_target(data, "url")


def _method_and_target(data: Any, key: str) -> Any:
    """Accept `GET /path` as shorthand for `{method: GET, <key>: /path}`."""
    if isinstance(data, str):
        method, _, target = data.strip().partition(" ")
        if not target:
            return {key: method}
        return {"method": method.upper(), key: target.strip()}
    return data


class Ask(_Strict):
    """One agent turn driven by a scripted model: what the model does is written here, the rest is real.

    `script` lists the model's moves in order (agent/scripted.py): `{tool: subscription.vas, args: {…}}`
    calls an operation, `{calls: [...]}` several at once, `{say: "…"}` answers. `session` continues a
    conversation (capture `session_id` from an earlier ask). With `confirm: true` the proposal pending in
    that session is run (with no `session`, the turn runs first and its proposal is then confirmed).
    The step's document is the turn's result with `tools` (the operations called, in order) and
    `proposed` (the operation proposed, if any).
    """

    message: str = ""
    script: list[dict[str, Any]] = Field(min_length=1)
    session: str | None = None
    profile: Literal["operator", "customer"] = "operator"
    customer: str | None = None
    actor: str = "scenario"
    confirm: bool = False

    @model_validator(mode="after")
    def _customer_profile_is_bound(self) -> Ask:
        if self.profile == "customer" and not self.customer:
            raise ValueError("the customer profile needs `customer:` (the account the agent acts for)")
        for move in self.script:
            if set(move) - {"tool", "args", "calls", "say", "usage"} or not {"tool", "calls", "say"} & set(move):
                raise ValueError("a script move is {tool: OPERATION, args: {…}}, {calls: [...]} or {say: TEXT}")
        if not self.message and not (self.session and self.confirm):
            raise ValueError("an ask step needs a message (only a confirm of a session's proposal has none)")
        return self


KINDS = ("cli", "api", "http", "advance", "sleep", "ask")


class Step(_Strict):
    """One step: exactly one action (`cli`, `api`, `http`, `advance`, `sleep`, `ask`), then checks and captures."""

    name: str | None = None
    cli: str | list[str] | None = None
    api: ApiCall | None = None
    http: HttpCall | None = None
    advance: DurationText | None = None
    sleep: Seconds | None = None
    ask: Ask | None = None
    exit_code: int | None = None
    status: int | None = None
    assert_: list[Assertion] = Field(default_factory=list, alias="assert")
    capture: dict[str, JsonPath] = Field(default_factory=dict)
    poll: Poll | None = None

    @model_validator(mode="after")
    def _exactly_one_action(self) -> Step:
        actions = [k for k in KINDS if getattr(self, k) is not None]
        if len(actions) != 1:
            raise ValueError(f"a step takes exactly one of {', '.join(KINDS)} (found: {', '.join(actions) or 'none'})")
        if self.exit_code is not None and self.kind != "cli":
            raise ValueError("exit_code applies to cli steps; use status for api and http steps")
        if self.status is not None and self.kind not in ("api", "http"):
            raise ValueError("status applies to api and http steps")
        return self

    @property
    def kind(self) -> str:
        """Which action the step performs."""
        return next(k for k in KINDS if getattr(self, k) is not None)

    def title(self, index: int) -> str:
        """The step's name, or a description of its action."""
        if self.name:
            return self.name
        if self.cli is not None:
            return "bss " + (self.cli if isinstance(self.cli, str) else " ".join(self.cli))
        if self.api is not None:
            return f"{self.api.method} {self.api.path}"
        if self.http is not None:
            return f"{self.http.method} {self.http.url}"
        if self.advance is not None:
            return f"advance {self.advance}"
        if self.ask is not None:
            return f"ask: {self.ask.message[:60]}"
        return f"step {index + 1}"


class Setup(_Strict):
    """What happens before the first step."""

    reset: bool = True


class Scenario(_Strict):
    """A named, tagged sequence of steps with its own variables."""

    name: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    setup: Setup = Field(default_factory=Setup)
    variables: dict[str, Any] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1)
