"""Local-account tests run under moto: dummy credentials, never a real account."""

import os

os.environ.update(
    {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}
)
os.environ.pop("AWS_ENDPOINT_URL", None)

import io
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local_account import moto_server
from tests.support.aws import client_of
from tests.support.velocity import velocity_or_skip, warn_in_summary


@pytest.fixture
def velocity() -> None:
    """For tests that send requests through the local gateway, which renders with Velocity 1.7."""
    velocity_or_skip()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    warn_in_summary(terminalreporter)


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Any]]:
    """Clients of a server of the local account, for one test file of its patches, with a summary table and a
    table of applied markers: made for the file, deleted after it (moto's state is one per process)."""
    server, url = moto_server.start()
    make = client_of(url)
    dynamodb = make("dynamodb")
    tables = (("e-account-summary", "accountId"), ("e-applied", "id"))
    for name, key in tables:
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    yield {"dynamodb": dynamodb, "sqs": make("sqs"), "lambda": make("lambda"), "iam": make("iam")}
    for name, _ in tables:
        dynamodb.delete_table(TableName=name)
    server.stop()


def streams_of(dynamodb: Any) -> Any:
    """A DynamoDB Streams client of the same local account."""
    return boto3.client(
        "dynamodbstreams",
        endpoint_url=dynamodb.meta.endpoint_url,
        region_name="eu-west-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def apply(dynamodb: Any, account: str, markers: list[str]) -> None:
    """One transaction: the account's summary counted once, and each marker put only if it is new."""
    items: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": "e-account-summary",
                "Key": {"accountId": {"S": account}},
                "UpdateExpression": "ADD c :c",
                "ExpressionAttributeValues": {":c": {"N": "1"}},
            }
        }
    ]
    items += [
        {"Put": {"TableName": "e-applied", "Item": {"id": {"S": m}}, "ConditionExpression": "attribute_not_exists(id)"}}
        for m in markers
    ]
    dynamodb.transact_write_items(TransactItems=items)


def requests_post(url: str, action: str, body: str) -> tuple[int, str]:
    """A raw DynamoDB JSON request over HTTP (boto3 cannot send an unpaired surrogate)."""
    request = urllib.request.Request(url, data=body.encode("ascii"), headers=moto_server.dynamodb_headers(action))
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def create_function(clients: dict[str, Any], name: str) -> None:
    """A Python function in moto's Lambda (its code never runs here: the local runtime runs deployed code)."""
    role = clients["iam"].create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("main.py", "def handler(event, context):\n    return event\n")
    clients["lambda"].create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="main.handler", Code={"ZipFile": code.getvalue()}
    )
