"""The feature patches (local_account/patches/features.py): what moto lacks, added."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local_account.patches import features
from tests.local_account.conftest import GATEWAY_REQUEST, create_function, label
from tests.support.gateway import get_item_method


def test_lambda_invoke_runs_in_the_local_runtime(clients: dict[str, Any]) -> None:
    """moto runs Invoke in Docker, which this machine lacks; the local account routes it to its own runtime."""
    create_function(clients, "e-invoked")
    calls: list[tuple[str, Any]] = []

    def runtime(name: str, event: Any) -> tuple[Any, str | None, str | None]:
        calls.append((name, event))
        return {"handled": event["n"]}, None, None

    routed = list(features.ROUTES)
    try:
        features.route_invocations(runtime)
        answer = clients["lambda"].invoke(FunctionName="e-invoked", Payload=b'{"n": 7}')
        assert (json.loads(answer["Payload"].read()), calls) == ({"handled": 7}, [("e-invoked", {"n": 7})])
        features.route_invocations(lambda name, event: (None, "the runtime stopped", "Stopped"))
        failed = clients["lambda"].invoke(FunctionName="e-invoked", Payload=b"{}")
        assert failed["FunctionError"] == "Unhandled"
    finally:
        features.ROUTES[:] = routed


def test_methods_integrations_models_and_resources_update_in_place(stage: dict[str, Any]) -> None:
    """AWS applies Update* patch operations in place (moto had none): Terraform changes a template, an
    authorization or a schema without replacing anything."""
    apigateway, api = stage["apigateway"], stage["api"]
    served = label(stage)
    resources = {r["path"]: r["id"] for r in apigateway.get_resources(restApiId=api)["items"]}
    item = apigateway.create_resource(restApiId=api, parentId=resources["/"], pathPart="patched")["id"]
    get_item_method(apigateway, api, item, GATEWAY_REQUEST)
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
