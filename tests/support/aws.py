"""Tables and queues shaped as the Terraform modules create them, for tests under moto."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

SUMMARY = "test-summary"
APPLIED = "test-applied"
DETAILS = "test-details"


def create_tables(dynamodb: Any) -> None:
    """Create the summary and applied-marker tables."""
    for name, key in ((SUMMARY, "accountId"), (APPLIED, "id")):
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )


def create_details_table(dynamodb: Any) -> str:
    """Create the details table as the tables module does (stream, byRecordedAt index); return the stream ARN."""
    response = dynamodb.create_table(
        TableName=DETAILS,
        KeySchema=[
            {"AttributeName": "accountId", "KeyType": "HASH"},
            {"AttributeName": "transactionId", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "accountId", "AttributeType": "S"},
            {"AttributeName": "transactionId", "AttributeType": "S"},
            {"AttributeName": "recordedAt", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byRecordedAt",
                "KeySchema": [
                    {"AttributeName": "accountId", "KeyType": "HASH"},
                    {"AttributeName": "recordedAt", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return str(response["TableDescription"]["LatestStreamArn"])


def summaries(dynamodb: Any) -> dict[str, tuple[Decimal, Decimal, int]]:
    """Credits, debits and count of every summary item."""
    items = dynamodb.scan(TableName=SUMMARY, ConsistentRead=True)["Items"]
    return {
        item["accountId"]["S"]: (
            Decimal(item.get("credits", {"N": "0"})["N"]),
            Decimal(item.get("debits", {"N": "0"})["N"]),
            int(item.get("transactionCount", {"N": "0"})["N"]),
        )
        for item in items
        if int(item.get("transactionCount", {"N": "0"})["N"]) or item.get("credits")
    }


def nonzero(totals: dict[str, tuple[Decimal, Decimal, int]]) -> dict[str, tuple[Decimal, Decimal, int]]:
    """Drop accounts whose totals are all zero (a summary that exists but folds to nothing)."""
    return {a: t for a, t in totals.items() if t != (Decimal(0), Decimal(0), 0)}
