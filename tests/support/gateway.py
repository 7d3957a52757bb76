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


def mock_method(apigateway: Any, api: str, resource: str, status: int, response_template: str) -> None:
    """GET on ``resource``: a mock integration answering ``status`` with ``response_template``, as the API
    module serves a route its options leave out (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-mock-integration.html)."""
    where = {"restApiId": api, "resourceId": resource, "httpMethod": "GET"}
    apigateway.put_method(**where, authorizationType="NONE")
    request = {"application/json": '{"statusCode": %d}' % status}  # noqa: UP031 (a template, not Python's format)
    apigateway.put_integration(**where, type="MOCK", requestTemplates=request, passthroughBehavior="NEVER")
    apigateway.put_method_response(**where, statusCode=str(status))
    apigateway.put_integration_response(
        **where,
        statusCode=str(status),
        selectionPattern=str(status),
        responseTemplates={"application/json": response_template},
    )
