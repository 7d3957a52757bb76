"""The local API Gateway serves each stage's deployment, loaded once, and sees every redeploy."""

from __future__ import annotations

from typing import Any

import pytest

from harness.client import LedgerClient
from local_account.apigateway import Gateway
from tests.local_account.conftest import GATEWAY_REGION, GATEWAY_REQUEST, GATEWAY_TABLE, label
from tests.support.gateway import get_item_method, mock_method

pytestmark = pytest.mark.usefixtures("velocity")  # requests go through the local gateway (the stage of conftest.py)


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


def test_a_mock_integration_answers_the_status_its_template_names(stage: dict[str, Any]) -> None:
    """A mock integration calls nothing: its request template names the status code, which selects the
    integration response (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-mock-integration.html)."""
    apigateway, api = stage["apigateway"], stage["api"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    resource = apigateway.create_resource(restApiId=api, parentId=root, pathPart="mock-probe")["id"]
    mock_method(apigateway, api, resource, 404, '{"error": "not_served", "path": "$context.resourcePath"}')
    try:
        apigateway.create_deployment(restApiId=api, stageName="v1")
        answer = stage["client"].request("GET", "/mock-probe")
        assert (answer.status, answer.body) == (404, {"error": "not_served", "path": "/mock-probe"})
    finally:
        apigateway.delete_resource(restApiId=api, resourceId=resource)
        apigateway.create_deployment(restApiId=api, stageName="v1")


def test_a_stage_variable_changed_without_a_deployment_is_seen_by_the_next_request(stage: dict[str, Any]) -> None:
    """Stage variables are the stage's, not the deployment's: AWS's procedure deploys once, then sets them
    and invokes the stage (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-set-stage-variables-aws-console.html),
    and Terraform's aws_api_gateway_stage changes them with UpdateStage alone. A guard turned on
    (guardInitialised) must be seen at once."""
    apigateway, dynamodb = stage["apigateway"], stage["dynamodb"]
    dynamodb.create_table(
        TableName="g-other",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="g-other", Item={"id": {"S": "a"}, "name": {"S": "other"}})
    api = apigateway.create_rest_api(name="g-variables")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    item = apigateway.create_resource(restApiId=api, parentId=root, pathPart="{id}")["id"]
    request = GATEWAY_REQUEST.replace('"g-items"', '"$stageVariables.table"')
    get_item_method(apigateway, api, item, request, '{"name": "$input.path(\'$.Item.name.S\')"}')
    apigateway.create_deployment(restApiId=api, stageName="v1", variables={"table": GATEWAY_TABLE})
    client = LedgerClient(f"http://127.0.0.1:{stage['port']}/{api}/v1", GATEWAY_REGION, sign=False)
    assert client.request("GET", "/a").body == {"name": "first"}

    operation = {"op": "replace", "path": "/variables/table", "value": "g-other"}
    apigateway.update_stage(restApiId=api, stageName="v1", patchOperations=[operation])
    assert client.request("GET", "/a").body == {"name": "other"}, "the stage's current variables, no redeploy"


def test_a_kept_alive_connection_serves_many_requests(stage: dict[str, Any]) -> None:
    client: LedgerClient = stage["client"]
    label(stage)
    connection = client._local.connection
    for _ in range(3):
        label(stage)
    assert client._local.connection is connection
    assert connection.sock is not None, "the gateway kept the connection open (HTTP/1.1 keep-alive)"
