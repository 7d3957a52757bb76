"""The local gateway's request validator speaks API Gateway's validationErrorString."""

from __future__ import annotations

import re

import pytest

from local_account.apigateway import Gateway, validation_error
from tools.contract import shape_schema

pytestmark = pytest.mark.usefixtures("velocity")  # requests go through the local gateway

MODEL = shape_schema("NewTransaction")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"type": "credit", "amount": "1", "currency": "EUR"}', None),
        ('{"type": "credit", "currency": "EUR"}', '[object has missing required properties (["amount"])]'),
        ('{"type": "credit", "amount": "1"}', '[object has missing required properties (["currency"])]'),
        ("{}", '[object has missing required properties (["amount","currency","type"])]'),
        (
            '{"type": "credit", "amount": "1", "currency": "EUR", "zeta": 1, "alpha": 2}',
            '[object instance has properties which are not allowed by the schema: ["alpha","zeta"]]',
        ),
        ("[1]", '[instance type (array) does not match any allowed primitive type (allowed: ["object"])]'),
        ("nope", "Invalid request body"),
        ('{"a": ' + "[" * 20_000 + "]" * 20_000 + "}", "Invalid request body"),  # was a RecursionError: 500
    ],
    ids=lambda v: v[:40] if isinstance(v, str) else v,
)
def test_messages_have_api_gateways_wording(body: str, expected: str | None) -> None:
    assert validation_error(MODEL, body) == expected


def test_the_request_id_is_the_clients_when_sent_and_the_extended_id_has_aws_shape() -> None:
    given = Gateway._context("POST", {"x-amzn-requestid": "a|b'c"}, 0)
    assert given["requestId"] == "a|b'c"
    generated = [Gateway._context("POST", {}, 0) for _ in range(200)]
    assert all(re.fullmatch(r"[0-9a-f-]{36}", c["requestId"]) for c in generated)
    extended = [c["extendedRequestId"] for c in generated]
    assert all(re.fullmatch(r"[A-Za-z0-9+/]{15}=", e) for e in extended), extended[:3]
    assert len(set(extended)) == 200
    assert any("+" in e or "/" in e for e in extended), "AWS's ids carry + and /; the templates must meet them"
