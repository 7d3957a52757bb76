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

from harness.client import LedgerClient
from local_account import moto_server
from local_account.apigateway import Gateway, serve
from tests.support.aws import client_of
from tests.support.gateway import get_item_method
from tests.support.velocity import velocity_or_skip, warn_in_summary

# The stage of the local API Gateway that the ``stage`` fixture serves: GET /items/{id} reads GATEWAY_TABLE.
GATEWAY_REGION = "eu-west-1"
GATEWAY_TABLE = "g-items"
GATEWAY_REQUEST = '{"TableName": "g-items", "Key": {"id": {"S": "$util.escapeJavaScript($input.params(\'id\'))"}}}'


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


def iterator_of(streams: Any, arn: str) -> str:
    """An iterator of the stream's first shard, from its oldest record (TRIM_HORIZON)."""
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator: str = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    return iterator


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """The endpoint of a server of the local account, for one test file."""
    server, endpoint = moto_server.start()
    yield endpoint
    server.stop()


def response_template(label: str) -> str:
    return f'{{"label": "{label}", "name": "$input.path(\'$.Item.name.S\')"}}'


@pytest.fixture(scope="module")
def stage() -> Iterator[dict[str, Any]]:
    """A stage of the local API Gateway, served for one test file (its requests are rendered with Velocity):
    GET /items/{id} reads GATEWAY_TABLE, whose item "a" is named "first", and answers a label set by
    ``respond(label)`` ("one" when deployed). Its table is deleted after the file (moto's state is one
    per process)."""
    velocity_or_skip()
    server, url = moto_server.start()
    make = client_of(url, GATEWAY_REGION)
    dynamodb, apigateway = make("dynamodb"), make("apigateway")
    dynamodb.create_table(
        TableName=GATEWAY_TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=GATEWAY_TABLE, Item={"id": {"S": "a"}, "name": {"S": "first"}})
    api = apigateway.create_rest_api(name="g-api")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    items = apigateway.create_resource(restApiId=api, parentId=root, pathPart="items")["id"]
    item = apigateway.create_resource(restApiId=api, parentId=items, pathPart="{id}")["id"]
    get_item_method(apigateway, api, item, GATEWAY_REQUEST)

    def respond(label: str) -> Any:
        return apigateway.put_integration_response(
            restApiId=api,
            resourceId=item,
            httpMethod="GET",
            statusCode="200",
            selectionPattern="",
            responseTemplates={"application/json": response_template(label)},
        )

    respond("one")
    apigateway.create_deployment(restApiId=api, stageName="v1")
    gateway = Gateway(url, GATEWAY_REGION, {"x": "x"})
    port = moto_server.free_port()
    http = serve(gateway, port)
    client = LedgerClient(f"http://127.0.0.1:{port}/{api}/v1", GATEWAY_REGION, sign=False)
    yield {
        "client": client,
        "gateway": gateway,
        "apigateway": apigateway,
        "dynamodb": dynamodb,
        "api": api,
        "respond": respond,
        "port": port,
    }
    http.shutdown()
    dynamodb.delete_table(TableName=GATEWAY_TABLE)
    server.stop()


def label(stage: dict[str, Any]) -> Any:
    """The label the stage answers for item "a"."""
    answer = stage["client"].request("GET", "/items/a")
    assert answer.status == 200, answer.text
    assert answer.body["name"] == "first"
    return answer.body["label"]
