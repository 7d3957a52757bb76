"""Methods for the local gateway's own tests: a GET that reads one DynamoDB item, built as Terraform builds it."""

from __future__ import annotations

from typing import Any

REGION = "eu-west-1"


def get_item_method(
    apigateway: Any,
    api: str,
    resource: str,
    request_template: str,
    response_template: str | None = None,
    *,
    authorization: str = "NONE",
    authorizer: str | None = None,
) -> None:
    """GET on ``resource``: the request template asks DynamoDB's GetItem, the response template answers."""
    extra = {"authorizerId": authorizer} if authorizer else {}
    apigateway.put_method(
        restApiId=api, resourceId=resource, httpMethod="GET", authorizationType=authorization, **extra
    )
    apigateway.put_integration(
        restApiId=api,
        resourceId=resource,
        httpMethod="GET",
        type="AWS",
        integrationHttpMethod="POST",
        uri=f"arn:aws:apigateway:{REGION}:dynamodb:action/GetItem",
        requestTemplates={"application/json": request_template},
    )
    apigateway.put_method_response(restApiId=api, resourceId=resource, httpMethod="GET", statusCode="200")
    templates = {"responseTemplates": {"application/json": response_template}} if response_template else {}
    apigateway.put_integration_response(
        restApiId=api, resourceId=resource, httpMethod="GET", statusCode="200", selectionPattern="", **templates
    )
