"""IAM's evaluation of identity policies, as the local gateway applies it to execute-api:Invoke."""

from __future__ import annotations

from typing import Any

import pytest

from local_account.iam import allowed, matches

ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/accounts/acc-1/summary"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(resource: Any, action: Any = "execute-api:Invoke", **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("a*", "a/b/c", True),  # * crosses /
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("a.c", "abc", False),  # . is a plain character
        ("acc-[12]", "acc-1", False),  # so are brackets
        ("ACC", "acc", False),
    ],
)
def test_wildcards_are_iams_star_and_question_mark_only(pattern: str, value: str, expected: bool) -> None:
    assert matches(pattern, value) is expected


def test_an_exact_resource_is_allowed_and_its_neighbours_are_not() -> None:
    document = policy(allow(ARN))
    assert allowed([document], "execute-api:Invoke", ARN)
    assert not allowed([document], "execute-api:Invoke", ARN.replace("acc-1", "acc-2"))
    assert not allowed([document], "execute-api:Invoke", ARN.replace("acc-1", "acc-10"))
    assert not allowed([document], "execute-api:Invoke", ARN + "/more")


def test_actions_match_without_case_and_resources_with_case() -> None:
    assert allowed([policy(allow(ARN, "EXECUTE-API:invoke"))], "execute-api:Invoke", ARN)
    assert not allowed([policy(allow(ARN.upper()))], "execute-api:Invoke", ARN)


def test_an_explicit_deny_wins_and_nothing_allowed_is_denied() -> None:
    deny = {"Effect": "Deny", "Action": "execute-api:*", "Resource": "*/acc-1/*"}
    assert not allowed([policy(allow("*")), policy(deny)], "execute-api:Invoke", ARN)
    assert allowed([policy(allow("*")), policy(deny)], "execute-api:Invoke", ARN.replace("acc-1", "acc-2"))
    assert not allowed([], "execute-api:Invoke", ARN)
    assert not allowed([policy(allow(ARN, "dynamodb:*"))], "execute-api:Invoke", ARN)


def test_not_resource_and_not_action_invert_the_match() -> None:
    everything_else = {"Effect": "Allow", "Action": "execute-api:Invoke", "NotResource": ARN}
    assert not allowed([policy(everything_else)], "execute-api:Invoke", ARN)
    assert allowed([policy(everything_else)], "execute-api:Invoke", ARN.replace("acc-1", "acc-2"))
    not_dynamo = {"Effect": "Allow", "NotAction": "dynamodb:*", "Resource": "*"}
    assert allowed([policy(not_dynamo)], "execute-api:Invoke", ARN)


def test_a_conditional_allow_never_allows_and_a_conditional_deny_always_denies() -> None:
    condition = {"Bool": {"aws:SecureTransport": "true"}}
    assert not allowed([policy(allow(ARN, Condition=condition))], "execute-api:Invoke", ARN)
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": condition}
    assert not allowed([policy(allow(ARN)), policy(deny)], "execute-api:Invoke", ARN)


def test_a_single_statement_object_and_json_text_are_read() -> None:
    assert allowed(['{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}'], "execute-api:Invoke", ARN)
