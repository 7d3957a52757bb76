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


def allowed(documents: Iterable[str | Mapping[str, Any]], action: str, resource: str) -> bool:
    """Whether identity policies allow ``action`` on ``resource``: an allow and no deny."""
    allow = False
    for statement in statements(documents):
        if not (_covers(statement, "Action", action, True) and _covers(statement, "Resource", resource, False)):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow" and "Condition" not in statement:
            allow = True
    return allow
