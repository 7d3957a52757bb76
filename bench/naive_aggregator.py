"""The naive baseline, as the public sample does it: never part of the product.

Per record it does a PutItem then an UpdateItem on the summary, uses floats,
ignores REMOVE and MODIFY images, and swallows every write error with a print.
It writes to this project's summary table, so it keys its item with the row's currency.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def handle(records: Sequence[dict[str, Any]], client: DynamoDBClient, table: str) -> int:
    """Process a batch the naive way; return the number of summary writes attempted."""
    writes = 0
    for record in records:
        image = record.get("dynamodb", {}).get("NewImage")
        if not image:
            continue
        try:
            key = {"accountId": image["accountId"], "currency": image["currency"]}
            amount = float(image["amount"]["N"])
            signed = amount if image["type"]["S"] == "credit" else -amount
            writes += 2
            client.put_item(
                TableName=table,
                Item=key,
                ConditionExpression="attribute_not_exists(accountId)",
            )
        except ClientError:
            pass
        except (KeyError, ValueError) as error:
            print("skipping record", error)
            continue
        try:
            client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="ADD balance :b",
                ExpressionAttributeValues={":b": {"N": repr(signed)}},
            )
        except ClientError as error:
            print("update failed", error)
    return writes


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    """The baseline deployed as the stream function (bench report only): errors are swallowed."""
    import os

    import boto3

    handle(event.get("Records", []), boto3.client("dynamodb"), os.environ["SUMMARY_TABLE"])
