"""DynamoDB's Number and String types, held as DynamoDB holds them (local_account/dynamodb_values.py;
HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("20.00", "20"),  # trailing zeroes are trimmed
        ("0.50", "0.5"),
        ("007", "7"),  # leading zeroes are trimmed
        ("-0.0", "0"),
        ("-12.340", "-12.34"),
        ("1E+2", "100"),  # an exponent: stored in positional notation (AWS does not document the form)
        ("1.5e-3", "0.0015"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),  # 38 digits
    ],
)
def test_numbers_are_stored_as_dynamodb_stores_them(clients: dict[str, Any], sent: str, stored: str) -> None:
    dynamodb = clients["dynamodb"]
    key = {"accountId": {"S": f"n-{sent}"}}
    dynamodb.put_item(TableName="e-account-summary", Item={**key, "n": {"N": sent}, "s": {"NS": [sent, "3"]}})
    item = dynamodb.get_item(TableName="e-account-summary", Key=key)["Item"]
    assert item["n"] == {"N": stored}
    assert sorted(item["s"]["NS"]) == sorted({stored, "3"})
    dynamodb.update_item(
        TableName="e-account-summary",
        Key=key,
        UpdateExpression="SET m = :a, t = n + :b",
        ExpressionAttributeValues={":a": {"N": sent}, ":b": {"N": "0.10"}},
    )
    item = dynamodb.get_item(TableName="e-account-summary", Key=key)["Item"]
    assert item["m"] == {"N": stored}
    assert item["t"] == {"N": str(format((Decimal(stored) + Decimal("0.1")).normalize(), "f"))} or len(stored) >= 38


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ("123456789012345678901234567890123456789", "38 significant digits"),
        ("1e126", "overflow"),
        ("-1e126", "overflow"),
        ("1e-131", "underflow"),
        ("NaN", "cannot be converted"),
        (" 1", "cannot be converted"),
        ("1_000", "cannot be converted"),
    ],
)
def test_a_number_dynamodb_cannot_hold_is_refused_and_nothing_is_written(
    clients: dict[str, Any], sent: str, message: str
) -> None:
    dynamodb = clients["dynamodb"]
    key = {"accountId": {"S": f"bad-{sent}"}}
    writes: list[Callable[[], Any]] = [
        lambda: dynamodb.put_item(TableName="e-account-summary", Item={**key, "n": {"N": sent}}),
        lambda: dynamodb.update_item(
            TableName="e-account-summary",
            Key=key,
            UpdateExpression="SET d = :d, n = :n",
            ExpressionAttributeValues={":d": {"S": "partial"}, ":n": {"N": sent}},
        ),
    ]
    for write in writes:
        with pytest.raises(ClientError, match=f"ValidationException.*{message}"):
            write()
    assert "Item" not in dynamodb.get_item(TableName="e-account-summary", Key=key)
