"""The local API Gateway serves each stage's deployment, loaded once, and sees every redeploy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from harness.client import LedgerClient
from local_account import moto_server
from local_account.apigateway import Gateway, serve
from tests.support.aws import client_of
from tests.support.gateway import get_item_method

pytestmark = pytest.mark.usefixtures("velocity")  # requests go through the local gateway

REGION = "eu-west-1"
TABLE = "g-items"
REQUEST = '{"TableName": "g-items", "Key": {"id": {"S": "$util.escapeJavaScript($input.params(\'id\'))"}}}'


def response_template(label: str) -> str:
    return f'{{"label": "{label}", "name": "$input.path(\'$.Item.name.S\')"}}'


@pytest.fixture(scope="module")
def stage() -> Iterator[dict[str, Any]]:
    server, url = moto_server.start()
    make = client_of(url, REGION)
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
    get_item_method(apigateway, api, item, REQUEST)

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
    gateway = Gateway(url, REGION, {"x": "x"})
    port = moto_server.free_port()
    http = serve(gateway, port)
    client = LedgerClient(f"http://127.0.0.1:{port}/{api}/v1", REGION, sign=False)
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
    request = REQUEST.replace('"g-items"', '"$stageVariables.table"')
    get_item_method(apigateway, api, item, request, '{"name": "$input.path(\'$.Item.name.S\')"}')
    apigateway.create_deployment(restApiId=api, stageName="v1", variables={"table": TABLE})
    client = LedgerClient(f"http://127.0.0.1:{stage['port']}/{api}/v1", REGION, sign=False)
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


def test_methods_integrations_models_and_resources_update_in_place(stage: dict[str, Any]) -> None:
    """AWS applies Update* patch operations in place (moto had none): Terraform changes a template, an
    authorization or a schema without replacing anything."""
    apigateway, api = stage["apigateway"], stage["api"]
    served = label(stage)
    resources = {r["path"]: r["id"] for r in apigateway.get_resources(restApiId=api)["items"]}
    item = apigateway.create_resource(restApiId=api, parentId=resources["/"], pathPart="patched")["id"]
    get_item_method(apigateway, api, item, REQUEST)
    apigateway.update_method(
        restApiId=api,
        resourceId=item,
        httpMethod="GET",
        patchOperations=[
            {"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"},
            {"op": "add", "path": "/requestParameters/method.request.path.id", "value": "true"},
        ],
    )
    method = apigateway.get_method(restApiId=api, resourceId=item, httpMethod="GET")
    assert method["authorizationType"] == "AWS_IAM"
    assert method["requestParameters"] == {"method.request.path.id": True}
    assert label(stage) == served, "the deployed stage is untouched until a deployment"
    apigateway.update_integration(
        restApiId=api,
        resourceId=item,
        httpMethod="GET",
        patchOperations=[{"op": "replace", "path": "/requestTemplates/application~1json", "value": "{}"}],
    )
    assert apigateway.get_integration(restApiId=api, resourceId=item, httpMethod="GET")["requestTemplates"] == {
        "application/json": "{}"
    }
    apigateway.update_integration_response(
        restApiId=api,
        resourceId=item,
        httpMethod="GET",
        statusCode="200",
        patchOperations=[{"op": "replace", "path": "/selectionPattern", "value": "2\\d{2}"}],
    )
    response = apigateway.get_integration_response(restApiId=api, resourceId=item, httpMethod="GET", statusCode="200")
    assert response["selectionPattern"] == "2\\d{2}"
    apigateway.create_model(restApiId=api, name="Thing", contentType="application/json", schema="{}")
    apigateway.update_model(
        restApiId=api, modelName="Thing", patchOperations=[{"op": "replace", "path": "/schema", "value": '{"a": 1}'}]
    )
    assert apigateway.get_model(restApiId=api, modelName="Thing")["schema"] == '{"a": 1}'
    other = apigateway.create_resource(restApiId=api, parentId=resources["/"], pathPart="other")["id"]
    apigateway.update_resource(
        restApiId=api,
        resourceId=other,
        patchOperations=[{"op": "replace", "path": "/parentId", "value": resources["/items"]}],
    )
    assert apigateway.get_resource(restApiId=api, resourceId=other)["path"] == "/items/other"
    with pytest.raises(apigateway.exceptions.BadRequestException):
        apigateway.update_method(
            restApiId=api,
            resourceId=item,
            httpMethod="GET",
            patchOperations=[{"op": "replace", "path": "/colour", "value": "blue"}],
        )


def test_a_stage_says_when_it_was_created_and_last_updated(stage: dict[str, Any]) -> None:
    """GetStage answers createdDate and lastUpdatedDate, as AWS's does
    (https://docs.aws.amazon.com/apigateway/latest/api/API_GetStage.html); an update moves the second."""
    apigateway, api = stage["apigateway"], stage["api"]
    before = apigateway.get_stage(restApiId=api, stageName="v1")
    assert before["createdDate"] <= before["lastUpdatedDate"] <= datetime.now(UTC)
    patch = [{"op": "replace", "path": "/variables/probe", "value": "1"}]
    apigateway.update_stage(restApiId=api, stageName="v1", patchOperations=patch)
    after = apigateway.get_stage(restApiId=api, stageName="v1")
    assert after["createdDate"] == before["createdDate"] and after["lastUpdatedDate"] > before["lastUpdatedDate"]


LOGGING_REFUSED = "CloudWatch Logs role ARN must be set in account settings to enable logging"


def test_logging_is_refused_until_the_account_names_api_gateways_cloudwatch_role(stage: dict[str, Any]) -> None:
    """Access and execution logging need the account's cloudwatchRoleArn
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html): in an account without
    it, API Gateway refuses the stage update that turns either on, and a first apply fails; metrics need no role."""
    apigateway, api = stage["apigateway"], stage["api"]
    access = [
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": "arn:aws:logs:eu-west-1:1:log-group:a"},
        {"op": "replace", "path": "/accessLogSettings/format", "value": '{"requestId": "$context.requestId"}'},
    ]
    execution = [{"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"}]
    tracing = [{"op": "replace", "path": "/*/*/logging/dataTrace", "value": "true"}]
    assert apigateway.get_account().get("cloudwatchRoleArn") is None
    for operations in (access, execution, tracing):
        with pytest.raises(apigateway.exceptions.BadRequestException, match=LOGGING_REFUSED):
            apigateway.update_stage(restApiId=api, stageName="v1", patchOperations=operations)
    described = apigateway.get_stage(restApiId=api, stageName="v1")
    assert "accessLogSettings" not in described and "*/*" not in described.get("methodSettings", {})
    metrics = [{"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"}]
    apigateway.update_stage(restApiId=api, stageName="v1", patchOperations=metrics)

    role = {"op": "replace", "path": "/cloudwatchRoleArn", "value": "arn:aws:iam::123456789012:role/apigw-logs"}
    apigateway.update_account(patchOperations=[role])
    try:
        apigateway.update_stage(restApiId=api, stageName="v1", patchOperations=access + execution)
        described = apigateway.get_stage(restApiId=api, stageName="v1")
        assert described["accessLogSettings"]["destinationArn"].endswith(":log-group:a")
        assert described["methodSettings"]["*/*"]["loggingLevel"] == "ERROR"
    finally:
        apigateway.update_account(patchOperations=[{**role, "value": ""}])


def test_an_authorizers_user_pools_are_added_and_removed_in_place(stage: dict[str, Any]) -> None:
    """UpdateAuthorizer adds and removes a Cognito authorizer's pools with the operations Terraform sends
    (https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateAuthorizer.html); moto answered 500 and the
    apply retried until it timed out."""
    apigateway, api = stage["apigateway"], stage["api"]
    pool = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_"
    made = apigateway.create_authorizer(
        restApiId=api,
        name="pools",
        type="COGNITO_USER_POOLS",
        providerARNs=[f"{pool}a"],
        identitySource="method.request.header.Authorization",
    )
    operations = [
        {"op": "add", "path": "/providerARNs", "value": f"{pool}b"},
        {"op": "remove", "path": "/providerARNs", "value": f"{pool}a"},
    ]
    updated = apigateway.update_authorizer(restApiId=api, authorizerId=made["id"], patchOperations=operations)
    assert updated["providerARNs"] == [f"{pool}b"]
    assert apigateway.get_authorizer(restApiId=api, authorizerId=made["id"])["providerARNs"] == [f"{pool}b"]
