"""The local gateway's request validator speaks API Gateway's validationErrorString."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.apigateway import validation_error

MODEL = json.loads((Path(__file__).resolve().parents[2] / "modules/api/new_transaction.schema.json").read_text())


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"type": "credit", "amount": "1"}', None),
        ('{"type": "credit"}', '[object has missing required properties (["amount"])]'),
        ("{}", '[object has missing required properties (["amount","type"])]'),
        (
            '{"type": "credit", "amount": "1", "zeta": 1, "alpha": 2}',
            '[object instance has properties which are not allowed by the schema: ["alpha","zeta"]]',
        ),
        ("[1]", '[instance type (array) does not match any allowed primitive type (allowed: ["object"])]'),
        ("nope", "Invalid request body"),
    ],
)
def test_messages_have_api_gateways_wording(body: str, expected: str | None) -> None:
    assert validation_error(MODEL, body) == expected
