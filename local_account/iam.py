"""IAM identity-policy evaluation for the local gateway's AWS_IAM methods, and for tests.

The rules (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html):

* a request is allowed when some statement allows it and none denies it (an explicit deny wins;
  without an allow it is implicitly denied);
* ``Action``/``NotAction`` match the service prefix and action case-insensitively,
  ``Resource``/``NotResource`` match the ARN case-sensitively;
* in both, ``*`` matches any run of characters (``/`` included) and ``?`` any one character;
  nothing else is special.

Conditions are not evaluated: a statement with a ``Condition`` is taken to deny when it denies, and
not to allow when it allows, so the local account never allows more than AWS would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's wildcard match of one pattern against a whole value."""
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def _listed(statement: Mapping[str, Any], name: str) -> list[str] | None:
    value = statement.get(name)
    if value is None:
        return None
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _covers(statement: Mapping[str, Any], key: str, value: str, ignore_case: bool) -> bool:
    """Whether the statement's Action/NotAction (or Resource/NotResource) takes in ``value``."""
    positive, negative = _listed(statement, key), _listed(statement, f"Not{key}")
    if positive is not None:
        return any(matches(p, value, ignore_case) for p in positive)
    if negative is not None:
        return not any(matches(p, value, ignore_case) for p in negative)
    return False


def parsed(documents: Iterable[str | Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Policy documents parsed once (JSON text or already parsed), for several ``allowed`` questions."""
    return [json.loads(document) if isinstance(document, str) else document for document in documents]


def statements(documents: Iterable[str | Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every statement of some policy documents (JSON text or parsed)."""
    found: list[Mapping[str, Any]] = []
    for document in parsed(documents):
        listed = document.get("Statement", [])
        found += [listed] if isinstance(listed, dict) else list(listed)
    return found


def allowed(
    documents: Iterable[str | Mapping[str, Any]],
    action: str,
    resource: str,
    context: Mapping[str, str | None] | None = None,
) -> bool:
    """Whether identity policies allow ``action`` on ``resource``: an allow and no deny.

    ``context`` holds the condition keys the caller models for this request, each with its value, or None
    where the request does not carry it. An Allow with conditions allows only when each of its conditions
    names a modelled key with an operator evaluated here, and holds; any other conditional Allow does not
    allow, and every Deny that covers the request denies, its conditions unread: never more than AWS."""
    allow = False
    for statement in statements(documents):
        if not (_covers(statement, "Action", action, True) and _covers(statement, "Resource", resource, False)):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow" and _conditions_allow(statement, context or {}):
            allow = True
    return allow


def _conditions_allow(statement: Mapping[str, Any], context: Mapping[str, str | None]) -> bool:
    """Whether an Allow's conditions (if any) hold, each on a key modelled in ``context``."""
    conditions = statement.get("Condition") or {}
    modelled = {key.lower() for key in context}
    if any(key.lower() not in modelled for tests in conditions.values() for key in tests):
        return False
    present = {key: value for key, value in context.items() if value is not None}
    try:
        return conditions_hold(statement, present)
    except UnknownConditionError:
        return False


# -- resource policies: principals and conditions -------------------------------------------------------
#
# A resource policy's statements name principals and may carry conditions. The operators evaluated are
# the ones this project's resource policies use, as IAM documents them
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
# String*, Arn* and Bool match any of the listed values; a Not operator holds when none matches, and when
# the key is absent from the request; Null tests whether the key is absent. Keys are case-insensitive.

_POSITIVE = {"StringEquals", "StringLike", "ArnEquals", "ArnLike", "Bool"}
_NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


class UnknownConditionError(ValueError):
    """A condition operator this evaluation does not know: the caller decides which way to err."""


def _holds(operator: str, values: list[str], value: str | None) -> bool:
    base = operator.removesuffix("IfExists")
    if base == "Null":
        return (value is None) == (values[0].lower() == "true")
    if base not in _POSITIVE | _NEGATED:
        raise UnknownConditionError(operator)
    if value is None:
        return base in _NEGATED or operator.endswith("IfExists")
    if base == "Bool":
        found = any(v.lower() == value.lower() for v in values)
    elif base in ("StringEquals", "StringNotEquals"):
        found = value in values
    else:  # String*Like and every Arn* operator take wildcards
        found = any(matches(v, value) for v in values)
    return not found if base in _NEGATED else found


def conditions_hold(statement: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    """Whether every condition of a statement holds for a request whose context keys are ``context``."""
    keys = {k.lower(): v for k, v in context.items()}
    for operator, tests in (statement.get("Condition") or {}).items():
        for key, expected in tests.items():
            values = [expected] if isinstance(expected, str) else [str(v) for v in expected]
            if not _holds(operator, values, keys.get(key.lower())):
                return False
    return True


def names_principal(statement: Mapping[str, Any], kind: str, principal: str) -> bool:
    """Whether a statement's Principal takes in ``principal`` of ``kind`` (AWS or Service)."""
    named = statement.get("Principal")
    if named == "*":
        return True
    listed = (named or {}).get(kind, []) if isinstance(named, dict) else []
    listed = [listed] if isinstance(listed, str) else list(listed)
    return "*" in listed or principal in listed


def decision(
    documents: Iterable[str | Mapping[str, Any]],
    principal: tuple[str, str],
    action: str,
    context: Mapping[str, str],
) -> str | None:
    """What a resource policy says of ``principal`` (kind, ARN or service) doing ``action``: "deny" when a
    statement denies it, "allow" when one allows it and none denies, else None. A Deny with a condition
    this evaluation does not know is taken to deny, an Allow with one not to allow: never more than AWS."""
    said = None
    for statement in statements(documents):
        if not (names_principal(statement, *principal) and _covers(statement, "Action", action, True)):
            continue
        try:
            applies = conditions_hold(statement, context)
        except UnknownConditionError:
            applies = statement.get("Effect") == "Deny"
        if applies and statement.get("Effect") == "Deny":
            return "deny"
        if applies and statement.get("Effect") == "Allow":
            said = "allow"
    return said
