"""Tables and queues shaped as the Terraform modules create them, for tests under moto."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import boto3
from botocore.config import Config
from moto import mock_aws

from ledger_aggregator.domain import Key, Totals
from ledger_aggregator.items import HOLD_INDEX
from ledger_aggregator.summary_item import key_of, stored_totals, summary_key

SUMMARY = "test-summary"
APPLIED = "test-applied"
DETAILS = "test-details"
DETAILS_INDEX = "byRecordedAt"  # the tables module's name (tests/static/test_names.py holds them equal)
BALANCES = "test-balances"
HISTORY = "test-history"
HOLDS = "test-holds"
HOLDS_INDEX = HOLD_INDEX  # the holds table's sparse index of open holds (docs/holds.md)


def create_tables(dynamodb: Any) -> None:
    """Create the summary table (keyed on accountId and currency) and the applied-marker table."""
    for name, keys in ((SUMMARY, ("accountId", "currency")), (APPLIED, ("id",))):
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": k, "KeyType": kind} for k, kind in zip(keys, ("HASH", "RANGE"), strict=False)],
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
            BillingMode="PAY_PER_REQUEST",
        )


def create_keyed_table(dynamodb: Any, name: str, keys: tuple[str, str]) -> None:
    """Create an on-demand table keyed on two string attributes (partition, sort)."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": k, "KeyType": kind} for k, kind in zip(keys, ("HASH", "RANGE"), strict=True)],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
        BillingMode="PAY_PER_REQUEST",
    )


def create_balances_table(dynamodb: Any) -> None:
    """Create the balance guard's table as the tables module does (keyed on accountId and currency)."""
    create_keyed_table(dynamodb, BALANCES, ("accountId", "currency"))


def create_history_table(dynamodb: Any) -> None:
    """Create the day closes' table as the tables module does (keyed on accountId and period)."""
    create_keyed_table(dynamodb, HISTORY, ("accountId", "period"))


def indexed_table(name: str, keys: tuple[str, str], index: str, index_keys: tuple[str, str]) -> dict[str, Any]:
    """CreateTable's arguments for an on-demand table keyed on two strings with one index of all its attributes,
    keyed on a string and a number."""
    types = {keys[0]: "S", keys[1]: "S", index_keys[0]: "S", index_keys[1]: "N"}
    return {
        "TableName": name,
        "KeySchema": [{"AttributeName": k, "KeyType": kind} for k, kind in zip(keys, ("HASH", "RANGE"), strict=True)],
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": t} for k, t in types.items()],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": k, "KeyType": kind} for k, kind in zip(index_keys, ("HASH", "RANGE"), strict=True)
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def create_holds_table(dynamodb: Any) -> None:
    """Create the holds table (keyed on accountId and holdId) with its sparse index of open holds: sweepShard
    and expiresAt, present on an open hold only (docs/holds.md)."""
    dynamodb.create_table(**indexed_table(HOLDS, ("accountId", "holdId"), HOLDS_INDEX, ("sweepShard", "expiresAt")))


@contextmanager
def template_tables() -> Iterator[Any]:
    """moto's DynamoDB with every table the mapping templates read or write: details, summary, applied, balances,
    history, holds."""
    with mock_aws():
        client = boto3.client("dynamodb")
        create_tables(client)
        create_details_table(client)
        create_balances_table(client)
        create_history_table(client)
        create_holds_table(client)
        yield client


def emptied(client: Any) -> Any:
    """Every item of every table removed (the tables kept): one moto serves many tests, each from empty."""
    for table in client.list_tables()["TableNames"]:
        keys = [k["AttributeName"] for k in client.describe_table(TableName=table)["Table"]["KeySchema"]]
        for item in client.scan(
            TableName=table,
            ProjectionExpression=", ".join(f"#{n}" for n, _ in enumerate(keys)),
            ExpressionAttributeNames={f"#{n}": k for n, k in enumerate(keys)},
        )["Items"]:
            client.delete_item(TableName=table, Key={k: item[k] for k in keys})
    return client


def create_stage(variables: Mapping[str, str]) -> tuple[str, str]:
    """A REST API with one deployed stage holding these stage variables, as modules/api deploys it (its id and
    the stage's name): where the balance guard's state lives, for the operator's CLI."""
    apigateway = boto3.client("apigateway")
    api = apigateway.create_rest_api(name="test-ledger")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    apigateway.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    apigateway.create_deployment(restApiId=api, stageName="v1", variables=dict(variables))
    return api, "v1"


def create_details_table(dynamodb: Any) -> str:
    """Create the details table as the tables module does (stream, newest-first index); return the stream ARN."""
    response = dynamodb.create_table(
        **indexed_table(DETAILS, ("accountId", "transactionId"), DETAILS_INDEX, ("accountId", "recordedAt")),
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return str(response["TableDescription"]["LatestStreamArn"])


def streamed_table(dynamodb: Any, name: str, key: str = "id") -> str:
    """Create a table keyed by ``key`` with a NEW_AND_OLD_IMAGES stream; return the stream ARN."""
    arn: str = dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    return arn


def summaries(dynamodb: Any) -> dict[Key, Totals]:
    """The totals of every summary item that holds any, by (account, currency)."""
    items = dynamodb.scan(TableName=SUMMARY, ConsistentRead=True)["Items"]
    return nonzero({key_of(item): stored_totals(item) for item in items})


def nonzero(totals: Mapping[Key, Totals]) -> dict[Key, Totals]:
    """Drop keys whose totals are all zero (a summary that exists but folds to nothing)."""
    return {k: t for k, t in totals.items() if not t.is_zero()}


def client_of(
    url: str, region: str = "eu-west-1", key: str = "x", secret: str = "x", config: Config | None = None
) -> Callable[[str], Any]:
    """A maker of boto3 clients for the local account at ``url``, signing with ``key``/``secret`` (and
    ``config``, botocore's, when given: its retries, for example)."""

    def make(service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=url,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=config,
        )

    return make


def put_summary(
    client: Any,
    account: str,
    credits: str,
    debits: str,
    count: int,
    *,
    currency: str = "EUR",
    latest: str | None = "2026-01-01T00:00:00.000000Z",  # the rows' time in tests.support.ledger.image
    revision: int | None = None,
) -> None:
    """Store a summary item with these totals (its balance their difference), as the fold would."""
    item = {
        **summary_key(account, currency),
        "credits": {"N": credits},
        "debits": {"N": debits},
        "transactionCount": {"N": str(count)},
        "balance": {"N": str(Decimal(credits) - Decimal(debits))},
    }
    if latest:
        item["lastTransactionAt"] = {"S": latest}
    if revision is not None:
        item["revision"] = {"N": str(revision)}
    client.put_item(TableName=SUMMARY, Item=item)
