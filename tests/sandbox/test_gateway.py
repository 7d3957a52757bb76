"""The local API Gateway serves each stage's deployment, loaded once, and sees every redeploy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from sandbox import emulator
from sandbox.apigateway import Gateway, serve
from sandbox.client import LedgerClient

REGION = "eu-west-1"
TABLE = "g-items"
REQUEST = '{"TableName": "g-items", "Key": {"id": {"S": "$util.escapeJavaScript($input.params(\'id\'))"}}}'


def response_template(label: str) -> str:
    return f'{{"label": "{label}", "name": "$input.path(\'$.Item.name.S\')"}}'


@pytest.fixture(scope="module")
def stage() -> Iterator[dict[str, Any]]:
    server, url = emulator.start()
    make = lambda service: boto3.client(  # noqa: E731
        service, endpoint_url=url, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    dynamodb, apigateway = make("dynamodb"), make("apigateway")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=TABLE, Item={"id": {"S": "a"}, "name": {"S": "first"}})
    api = apigateway.create_rest_api(name="g-api")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    items = apigateway.create_resource(restApiId=api, parentId=root, pathPart="items")["id"]
    item = apigateway.create_resource(restApiId=api, parentId=items, pathPart="{id}")["id"]
    apigateway.put_method(restApiId=api, resourceId=item, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(
        restApiId=api,
        resourceId=item,
        httpMethod="GET",
        type="AWS",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{REGION}:dynamodb:action/GetItem",
        requestTemplates={"application/json": REQUEST},
    )
    apigateway.put_method_response(restApiId=api, resourceId=item, httpMethod="GET", statusCode="200")
    respond = lambda label: apigateway.put_integration_response(  # noqa: E731
        restApiId=api,
        resourceId=item,
        httpMethod="GET",
        statusCode="200",
        selectionPattern="",
        responseTemplates={"application/json": response_template(label)},
    )
    respond("one")
    apigateway.create_deployment(restApiId=api, stageName="v1")
    gateway = Gateway(url, REGION)
    port = emulator.free_port()
    http = serve(gateway, port)
    client = LedgerClient(f"http://127.0.0.1:{port}/{api}/v1", REGION, sign=False)
    yield {"client": client, "gateway": gateway, "apigateway": apigateway, "api": api, "respond": respond}
    http.shutdown()
    server.stop()


def label(stage: dict[str, Any]) -> Any:
    answer = stage["client"].request("GET", "/items/a")
    assert answer.status == 200, answer.text
    assert answer.body["name"] == "first"
    return answer.body["label"]


def test_a_stage_is_loaded_once_and_serves_its_deployment_until_redeployed(stage: dict[str, Any]) -> None:
    gateway: Gateway = stage["gateway"]
    before = gateway.loads
    assert [label(stage) for _ in range(5)] == ["one"] * 5
    assert gateway.loads - before <= 1, "the deployment's configuration is loaded once, not per request"

    stage["respond"]("two")  # changed, but not deployed: AWS keeps serving the deployed snapshot
    assert label(stage) == "one"

    stage["apigateway"].create_deployment(restApiId=stage["api"], stageName="v1")
    assert label(stage) == "two", "a redeploy is seen by the next request"
    assert label(stage) == "two"


def test_a_kept_alive_connection_serves_many_requests(stage: dict[str, Any]) -> None:
    client: LedgerClient = stage["client"]
    label(stage)
    connection = client._local.connection
    for _ in range(3):
        label(stage)
    assert client._local.connection is connection
    assert connection.sock is not None, "the gateway kept the connection open (HTTP/1.1 keep-alive)"
