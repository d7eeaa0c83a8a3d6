"""A small IAM identity-policy evaluator: enough to hold the operator to a documented policy.

What it evaluates, as IAM does
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
an explicit Deny wins, then any Allow, else the request is implicitly denied.
`Action`/`NotAction` match case-insensitively with `*` and `?` wildcards,
`Resource`/`NotResource` case-sensitively with the same wildcards, and a
`Condition` block is an AND of its operators and keys, an OR of each key's values.
Operators: `StringEquals`, `StringNotEquals`, `StringEqualsIgnoreCase`,
`StringNotEqualsIgnoreCase`, `StringLike`, `StringNotLike`, `Bool`, each also with
`IfExists` (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html),
and the set qualifiers `ForAllValues:` (every value of a multivalued key matches; true
when the key is absent or empty, as IAM's is) and `ForAnyValue:` (at least one does)
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).

What it does not evaluate: resource-based policies, permission boundaries, SCPs and
session policies (there is one identity and its one policy); `Principal` (refused:
an identity policy has none); numeric, date, ARN and IP operators and policy
variables (`${aws:username}`): a policy using them is refused when loaded rather than
evaluated wrongly. A request whose resource ARN the sandbox
does not derive (`resource=None`) matches every `Resource` pattern and no
`NotResource` pattern.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_OPERATORS = {
    "stringequals",
    "stringnotequals",
    "stringequalsignorecase",
    "stringnotequalsignorecase",
    "stringlike",
    "stringnotlike",
    "bool",
    "null",  # {"key": "true"}: the key is absent; "false": present (IAM User Guide, "Null")
}
_NEGATED = {"stringnotequals", "stringnotequalsignorecase", "stringnotlike"}
_SETS = ("forallvalues:", "foranyvalue:")
ContextValue = str | tuple[str, ...]  # a tuple: a multivalued key's values
_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}


class PolicyError(ValueError):
    """The policy cannot be evaluated faithfully: refused when loaded, with the reason."""


class Decision(enum.Enum):
    ALLOWED = "allowed"
    NOT_ALLOWED = "implicitly denied"  # no statement allows it
    DENIED = "explicitly denied"  # a Deny statement matches


@dataclass(frozen=True)
class Statement:
    effect: str  # Allow | Deny
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]  # (operator, key, values)

    def applies(
        self, action: str, resource: str | None, context: Mapping[str, ContextValue]
    ) -> bool:
        matched = any(_matches(p, action, fold=True) for p in self.actions)
        if matched == self.not_action:
            return False
        if resource is None:
            hit = not self.not_resource
        else:
            hit = any(_matches(p, resource, fold=False) for p in self.resources) != (
                self.not_resource
            )
        return hit and all(_condition(op, key, vals, context) for op, key, vals in self.conditions)


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]

    @classmethod
    def parse(cls, text: str) -> Policy:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise PolicyError(f"not JSON: {error}") from None
        if not isinstance(document, dict) or "Statement" not in document:
            raise PolicyError("a policy document is an object with a Statement")
        raw = document["Statement"]
        items = raw if isinstance(raw, list) else [raw]
        return cls(tuple(_statement(item, n) for n, item in enumerate(items, 1)))

    def decide(
        self,
        action: str,
        resource: str | None = None,
        context: Mapping[str, ContextValue] | None = None,
    ) -> Decision:
        found = [s for s in self.statements if s.applies(action, resource, context or {})]
        if any(s.effect == "Deny" for s in found):
            return Decision.DENIED
        return Decision.ALLOWED if found else Decision.NOT_ALLOWED

    def allows(
        self,
        action: str,
        resource: str | None = None,
        context: Mapping[str, ContextValue] | None = None,
    ) -> bool:
        return self.decide(action, resource, context) is Decision.ALLOWED


def _statement(item: Any, number: int) -> Statement:
    where = f"statement {number}"
    if not isinstance(item, dict):
        raise PolicyError(f"{where} is not an object")
    if "Principal" in item or "NotPrincipal" in item:
        raise PolicyError(f"{where}: an identity policy has no Principal")
    unknown = set(item) - _STATEMENT_KEYS
    if unknown:
        raise PolicyError(f"{where}: unknown element(s) {', '.join(sorted(unknown))}")
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}: Effect must be Allow or Deny, not {effect!r}")
    if ("Action" in item) == ("NotAction" in item):
        raise PolicyError(f"{where}: needs exactly one of Action and NotAction")
    if ("Resource" in item) == ("NotResource" in item):
        raise PolicyError(f"{where}: needs exactly one of Resource and NotResource")
    actions = _strings(item.get("Action", item.get("NotAction")), f"{where}: Action")
    resources = _strings(item.get("Resource", item.get("NotResource")), f"{where}: Resource")
    for text in (*actions, *resources):
        if "${" in text:
            raise PolicyError(f"{where}: policy variables are not evaluated ({text})")
    return Statement(
        effect=effect,
        actions=actions,
        not_action="NotAction" in item,
        resources=resources,
        not_resource="NotResource" in item,
        conditions=_conditions(item.get("Condition", {}), where),
    )


def _conditions(block: Any, where: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    if not isinstance(block, dict):
        raise PolicyError(f"{where}: Condition is not an object")
    found = []
    for operator, tests in block.items():
        base = _unqualified(operator.lower()).removesuffix("ifexists")
        if base not in _OPERATORS:
            raise PolicyError(f"{where}: the condition operator {operator} is not evaluated")
        if not isinstance(tests, dict):
            raise PolicyError(f"{where}: {operator} is not an object")
        for key, values in tests.items():
            found.append((operator.lower(), key.lower(), _strings(values, f"{where}: {key}")))
    return tuple(found)


def _strings(value: Any, what: str) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str | bool) for v in values):
        raise PolicyError(f"{what} must be a string or a list of strings")
    return tuple(str(v).lower() if isinstance(v, bool) else v for v in values)


def _condition(
    operator: str, key: str, values: tuple[str, ...], context: Mapping[str, ContextValue]
) -> bool:
    lowered = {k.lower(): v for k, v in context.items()}
    single = _unqualified(operator)
    if single != operator:  # a set qualifier over a multivalued key
        found = lowered.get(key, ())
        actuals = (found,) if isinstance(found, str) else found
        tests = (_one(single, v, values) for v in actuals)
        return all(tests) if operator.startswith("forallvalues:") else any(tests)
    if operator == "null":
        return (key not in lowered) == (values[0].lower() == "true" if values else True)
    if key not in lowered:  # IfExists: no key, no test; otherwise only negations hold
        return operator.endswith("ifexists") or operator.removesuffix("ifexists") in _NEGATED
    actual = lowered[key]
    if isinstance(actual, tuple):  # a multivalued key without a qualifier: any value
        return any(_one(operator, v, values) for v in actual)
    return _one(operator, actual, values)


def _unqualified(operator: str) -> str:
    for qualifier in _SETS:
        if operator.startswith(qualifier):
            return operator.removeprefix(qualifier)
    return operator


def _one(operator: str, actual: str, values: tuple[str, ...]) -> bool:
    base = operator.removesuffix("ifexists")
    if base in ("stringequals", "stringnotequals", "bool"):
        hit = actual in values
    elif base in ("stringequalsignorecase", "stringnotequalsignorecase"):
        hit = actual.lower() in {v.lower() for v in values}
    else:
        hit = any(_matches(v, actual, fold=False) for v in values)
    return hit != (base in _NEGATED)


def _matches(pattern: str, text: str, *, fold: bool) -> bool:
    return _compiled(pattern, fold).fullmatch(text) is not None


@lru_cache(maxsize=1024)
def _compiled(pattern: str, fold: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if fold else re.DOTALL)
