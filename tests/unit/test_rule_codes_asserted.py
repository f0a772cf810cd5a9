"""Every rule code in docs/RULE_CODES.md is asserted by a test that runs the real stack (issue #17).

The rule, read from the test sources (no test is imported or run here):

* A code counts as asserted when it is a string literal, or a whole dotted token inside one (`"refund:
  payment.refund.declined" in row["failure_reason"]`), in an *assertion position* of a test module:
  anywhere inside an `assert` statement, among the arguments of a call whose name starts with `assert`
  or names a refusal (`assert_refused(…, 422, "code")`, `assert_error(…)`, `refused(…, "code")`), among
  the arguments of a `pytest.mark.parametrize` decorator (its rows feed the test's own assertion), or in
  what a loop that asserts iterates over (a name there stands for what the module assigns to it). A code
  merely mentioned — a docstring, a comment, an unused constant — does not count, nor do the catalogue's
  own checks (test_rule_codes_documented.py, this module).
* A code the catalogue answers over HTTP (a status in its HTTP column) must be asserted by a module that
  drives the real stack: tests/api, tests/portals, tests/cli (the CLI calls the API and prints its code),
  tests/workflows, tests/e2e or tests/browser. A policy unit test calling the rule function directly
  (tests/unit) does not show that a client ever sees the code.
* A code whose HTTP column is `—` (the agent's rails and runtime, workflow-only outcomes) is never an HTTP
  answer: any test asserting it counts, tests/unit and tests/agent included.
* A templated code (`<aggregate>.not_found`, `customer.<operation>.email_unique`) is checked by example:
  some asserted literal fills each `<…>` with a dotted-name part.
* GUARDS names the codes no HTTP request can provoke (a check behind an earlier one, or an activity's own
  check on what its workflow just computed), each with the reason: any test asserting them counts.
  STILL_TO_WRITE names codes a test could produce but none does yet (the gap stays visible, and an entry
  must go once its test lands); ALLOWED_UNASSERTED the codes no test can produce at all — it is empty.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from core.settings import REPO_ROOT

CATALOGUE = REPO_ROOT / "docs" / "RULE_CODES.md"
TESTS = REPO_ROOT / "tests"
ROW = re.compile(r"^\| `([^`]+)` \| ([^|]+) \|", flags=re.MULTILINE)
STACK_DIRS = ("api", "portals", "cli", "workflows", "e2e", "browser")
NOT_EVIDENCE = {TESTS / "unit" / "test_rule_codes_documented.py", Path(__file__).resolve()}
REFUSAL_CALL = re.compile(r"^(_*assert|.*refus)", flags=re.IGNORECASE)

_ASSIGN = "a guard of assign_resources: the order workflow assigns only what it reserved itself a moment before"
# Codes no HTTP request can provoke (a guard behind an earlier check, or an activity's own check on what its
# workflow computed): any test asserting them counts, unit tests included. Each says why.
GUARDS: dict[str, str] = {
    "catalog.admin.forbidden": "behind the catalog:admin scope, and every surface holding it is an admin surface "
                               "(policies/catalog.ADMIN_SURFACES): auth.scope.denied answers first",
    "inventory.esim.assigned_to_another_number": _ASSIGN,
    "inventory.msisdn.assigned_to_another_subscription": _ASSIGN,
    "inventory.<pool>.not_reserved_for_order": _ASSIGN,
    "service_order.complete.requires_tasks_completed": "the order workflow completes its service order only after "
                                                       "every task completed",
}

# Codes a test could produce but none does yet (#17): listed so the gap stays visible; remove as tests land.
STILL_TO_WRITE: dict[str, str] = {
}

# Codes no test can produce at all, each with the reason. Keep this empty.
ALLOWED_UNASSERTED: dict[str, str] = {}


def catalogue() -> dict[str, bool]:
    """Every documented code → whether it is an HTTP answer (its HTTP column is not `—`)."""
    return {code: status.strip() != "—" for code, status in ROW.findall(CATALOGUE.read_text())}


def _callee(node: ast.Call) -> str:
    return getattr(node.func, "id", getattr(node.func, "attr", ""))


def _is_parametrize(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _callee(node) == "parametrize"


def _checks(node: ast.AST) -> bool:
    """Whether the node is, or holds, an assertion (an `assert` or a refusal helper's call)."""
    return any(isinstance(n, ast.Assert) or (isinstance(n, ast.Call) and REFUSAL_CALL.match(_callee(n)))
               for n in ast.walk(node))


def _asserted_literals(tree: ast.Module) -> set[str]:
    """The string literals of one module that sit in an assertion position (module docstring).

    A name used there (`for body, code in CASES:` over a loop that asserts, `parametrize("c", CASES)`)
    stands for what the module assigns to it.
    """
    assigned: dict[str, list[ast.AST]] = {}
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
        if isinstance(node, ast.Assert):
            roots.append(node)
        elif isinstance(node, ast.Call) and (REFUSAL_CALL.match(_callee(node)) or _is_parametrize(node)):
            roots.extend([*node.args, *(k.value for k in node.keywords)])
        elif isinstance(node, (ast.For, ast.AsyncFor)) and any(_checks(n) for n in node.body):
            roots.append(node.iter)
    resolved = [value for root in roots for n in ast.walk(root) if isinstance(n, ast.Name)
                for value in assigned.get(n.id, [])]
    return {n.value for root in [*roots, *resolved] for n in ast.walk(root)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def asserted() -> tuple[set[str], set[str]]:
    """(literals asserted by real-stack tests, literals asserted by any test)."""
    stack: set[str] = set()
    anywhere: set[str] = set()
    for path in sorted(TESTS.rglob("*.py")):
        if path.resolve() in NOT_EVIDENCE:
            continue
        literals = _asserted_literals(ast.parse(path.read_text()))
        anywhere |= literals
        if path.relative_to(TESTS).parts[0] in STACK_DIRS:
            stack |= literals
    return stack, anywhere


def _pattern(code: str) -> re.Pattern[str]:
    """The code as a whole dotted token (`<…>` parts filled by one name part) inside an asserted string."""
    parts = [re.escape(p) if not p.startswith("<") else "[a-z0-9_]+" for p in re.split(r"(<[^>]+>)", code) if p]
    return re.compile(r"(?<![a-z0-9_.])" + "".join(parts) + r"(?![a-z0-9_]|\.[a-z0-9_])")


def unasserted() -> list[str]:
    stack, anywhere = asserted()
    missing = []
    for code, over_http in catalogue().items():
        evidence = stack if over_http and code not in GUARDS else anywhere
        pattern = _pattern(code)
        if not any(pattern.search(literal) for literal in evidence):
            missing.append(code)
    return missing


def test_the_catalogue_is_read():
    codes = catalogue()
    assert len(codes) > 150 and codes["usage.record.balance_exhausted"] and not codes["agent.refused"]


def test_the_rule_sees_assertions_and_ignores_mentions():
    tree = ast.parse('"""a.b.doc"""\nX = "a.b.constant"\n'
                     'def test():\n    assert r.json()["code"] == "a.b.compared"\n'
                     '    await assert_refused(api, db, "POST", URL, 422, "a.b.refused")\n'
                     '@pytest.mark.parametrize("code", ["a.b.row"])\ndef test_rows(code): ...\n')
    assert _asserted_literals(tree) >= {"a.b.compared", "a.b.refused", "a.b.row"}
    assert not _asserted_literals(tree) & {"a.b.doc", "a.b.constant"}
    assert _pattern("<aggregate>.not_found").search("customer.not_found")
    assert _pattern("payment.refund.declined").search("refund: payment.refund.declined (card_declined).")
    assert not _pattern("<aggregate>.not_found").search("customer.create.not_found.x")
    assert not _pattern("usage.record.duplicate_event").search("usage.record.duplicate_events")


def test_every_documented_code_is_asserted_by_a_test():
    missing = [code for code in unasserted() if code not in ALLOWED_UNASSERTED and code not in STILL_TO_WRITE]
    assert missing == [], (f"{len(missing)} rule codes of {CATALOGUE.name} are never asserted by a test of "
                           f"the real stack (see this module's docstring): {missing}")


def test_the_exception_lists_hold_only_documented_codes_still_unasserted():
    documented, missing = catalogue(), set(unasserted())
    assert sorted(set(GUARDS) - set(documented)) == []
    assert sorted((set(ALLOWED_UNASSERTED) | set(STILL_TO_WRITE)) - missing) == [], "a test landed: drop the entry"
