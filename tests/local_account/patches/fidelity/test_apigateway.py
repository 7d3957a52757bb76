"""The fidelity patches of API Gateway (local_account/patches/fidelity/apigateway.py): a stage answers and
refuses as AWS's does (the ``stage`` fixture of tests/local_account/conftest.py)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from moto.apigateway.models import apigateway_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from tests.local_account.conftest import GATEWAY_REGION, label
from tests.support.gateway import mock_method


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


def test_a_stage_update_is_seen_whole_or_not_at_all(stage: dict[str, Any]) -> None:
    """UpdateStage is an HTTP PATCH (https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateStage.html),
    applied atomically (RFC 5789, section 2): a request served during the update holds the stage's state as it
    was, its deployment and variables together, and an update with an operation AWS refuses changes nothing."""
    apigateway, api = stage["apigateway"], stage["api"]
    variable = [{"op": "replace", "path": "/variables/guardEpoch", "value": "1"}]
    apigateway.update_stage(restApiId=api, stageName="v1", patchOperations=variable)
    held = vars(apigateway_backends[DEFAULT_ACCOUNT_ID][GATEWAY_REGION].get_stage(api, "v1"))  # as a request holds it
    seen = copy.deepcopy(held)
    deployment = apigateway.create_deployment(restApiId=api)["id"]
    switch = [
        {"op": "replace", "path": "/deploymentId", "value": deployment},
        {"op": "remove", "path": "/variables/guardEpoch"},
        {"op": "replace", "path": "/variables/balancesTable", "value": "b"},
    ]
    apigateway.update_stage(restApiId=api, stageName="v1", patchOperations=switch)
    assert held == seen, "the stage's state a request held changed under it"
    switched = {**{k: v for k, v in seen["variables"].items() if k != "guardEpoch"}, "balancesTable": "b"}
    after = apigateway.get_stage(restApiId=api, stageName="v1")
    assert after["deploymentId"] == deployment and after["variables"] == switched

    refused = [{"op": "replace", "path": "/variables/balancesTable", "value": "c"}, {"op": "add", "path": "/x"}]
    with pytest.raises(apigateway.exceptions.ClientError):
        apigateway.update_stage(restApiId=api, stageName="v1", patchOperations=refused)
    assert apigateway.get_stage(restApiId=api, stageName="v1")["variables"] == switched


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


def method_without_integration(stage: dict[str, Any], path_part: str) -> dict[str, str]:
    """A GET method on a new resource /<path_part> of the stage's API, with no integration yet: its
    identifying parameters (restApiId, resourceId, httpMethod)."""
    apigateway, api = stage["apigateway"], stage["api"]
    root = next(r["id"] for r in apigateway.get_resources(restApiId=api)["items"] if r["path"] == "/")
    resource = apigateway.create_resource(restApiId=api, parentId=root, pathPart=path_part)["id"]
    where = {"restApiId": api, "resourceId": resource, "httpMethod": "GET"}
    apigateway.put_method(**where, authorizationType="NONE")
    return where


def test_a_template_is_only_a_template_never_the_requests_parameters(stage: dict[str, Any]) -> None:
    """PutIntegration and PutIntegrationResponse take their parameters from the URI and the JSON body
    (https://docs.aws.amazon.com/apigateway/latest/api/API_PutIntegration.html,
    https://docs.aws.amazon.com/apigateway/latest/api/API_PutIntegrationResponse.html): a mapping template whose
    text holds ``&type=`` or ``&selectionPattern=`` is stored as text and sets nothing else. Reproduced: moto
    read a JSON body as a form, so the listing's template, whose first line documents ``&type=``, set its
    integration's type to the rest of that line, and Terraform replaced the integration, deleting it."""
    apigateway, where = stage["apigateway"], method_without_integration(stage, "template-probe")
    request = "## GET /template-probe?limit=&type= -> a comment\n{}&uri=elsewhere&credentials=none"
    request += "&passthroughBehavior=NEVER"
    apigateway.put_integration(**where, type="MOCK", requestTemplates={"application/json": request})
    integration = apigateway.get_integration(**where)
    assert integration["type"] == "MOCK" and integration["requestTemplates"] == {"application/json": request}
    assert not {"uri", "credentials", "passthroughBehavior"} & set(integration), integration
    response = "{}&selectionPattern=5\\d{2}&contentHandling=CONVERT_TO_TEXT"
    apigateway.put_method_response(**where, statusCode="200")
    apigateway.put_integration_response(**where, statusCode="200", responseTemplates={"application/json": response})
    answered = apigateway.get_integration_response(**where, statusCode="200")
    assert answered["responseTemplates"] == {"application/json": response}
    assert not answered.get("selectionPattern") and "contentHandling" not in answered, answered


def test_a_method_without_an_integration_answers_not_found(stage: dict[str, Any]) -> None:
    """GetIntegration, DeleteIntegration and GetIntegrationResponse of a method that has no integration answer
    NotFoundException (https://docs.aws.amazon.com/apigateway/latest/api/API_GetIntegrationResponse.html,
    Errors), which the AWS provider reads as "gone". Reproduced: moto answered GetIntegrationResponse with 500,
    which the provider retried for minutes in a destroy, and GetIntegration with 200 and an empty object."""
    apigateway, where = stage["apigateway"], method_without_integration(stage, "no-integration")
    for call in (apigateway.get_integration, apigateway.delete_integration):
        with pytest.raises(apigateway.exceptions.NotFoundException):
            call(**where)
    with pytest.raises(apigateway.exceptions.NotFoundException):
        apigateway.get_integration_response(**where, statusCode="200")


def test_a_stage_serves_its_deployment_as_it_was_when_made(stage: dict[str, Any]) -> None:
    """A deployment is a snapshot of the API when it is made
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-deployments.html): a template changed
    and a method deleted after it, before any request, are not what the stage serves until the next
    deployment. Reproduced: the local gateway read the API at the first request after a redeploy, and so
    served a change no deployment held (an apply that deletes the hold routes after making the deployment
    that must no longer serve them)."""
    apigateway, api, client = stage["apigateway"], stage["api"], stage["client"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    gone = apigateway.create_resource(restApiId=api, parentId=root, pathPart="snapshot-probe")["id"]
    mock_method(apigateway, api, gone, 200, '{"served": true}')
    stage["respond"]("three")
    apigateway.create_deployment(restApiId=api, stageName="v1")
    stage["respond"]("four")  # after the deployment, before any request
    apigateway.delete_method(restApiId=api, resourceId=gone, httpMethod="GET")
    try:
        assert label(stage) == "three", "the stage serves the deployment as it was made"
        assert client.request("GET", "/snapshot-probe").body == {"served": True}, "a method deleted since is served"
        apigateway.create_deployment(restApiId=api, stageName="v1")
        assert label(stage) == "four", "the next deployment takes the change"
        assert client.request("GET", "/snapshot-probe").status == 403, "and no longer serves the deleted method"
    finally:
        apigateway.delete_resource(restApiId=api, resourceId=gone)
        stage["respond"]("one")
        apigateway.create_deployment(restApiId=api, stageName="v1")
