"""Feature patches: what the stack needs of AWS and moto does not have.

* API Gateway's Update* actions for methods, integrations, integration and method responses, models and
  resources (moto has none): a changed template, authorization or schema is applied in place with the
  patch operations Terraform sends, as on AWS (https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html).
* API Gateway's UpdateAuthorizer adds and removes a Cognito authorizer's user pools (``/providerARNs``, the
  ARN as the value), as Terraform sends them when ``provider_arns`` changes: moto's raised, which its server
  answered 500, and the SDK retried until the apply timed out.
* Lambda's ``Invoke`` (RequestResponse) runs the function in the local account's runtime
  (``route_invocations``), as Terraform's ``aws_lambda_invocation`` needs: moto runs code only in
  Docker. A handler's error answers 200 with ``X-Amz-Function-Error: Unhandled`` and the error as the
  payload, as AWS documents (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import moto.apigateway.models as apigateway_models
import moto.apigateway.responses as apigateway_responses
import moto.awslambda.models as lambda_models
from moto.apigateway.exceptions import BadRequestException

from ..patching import Patcher

# API field -> moto attribute, for what Update* may change. Paths are "/field" or "/field/key", with "/"
# in a key written "~1" (JSON Pointer). A method's request parameter says whether it is required.
_PATCHABLE: dict[str, dict[str, str]] = {
    "method": {
        "authorizationType": "authorization_type",
        "authorizerId": "authorizer_id",
        "authorizationScopes": "authorization_scopes",
        "apiKeyRequired": "api_key_required",
        "requestValidatorId": "request_validator_id",
        "requestParameters": "request_parameters",
        "requestModels": "request_models",
        "operationName": "operation_name",
    },
    "integration": {
        "type": "integration_type",
        "uri": "uri",
        "httpMethod": "http_method",
        "requestTemplates": "request_templates",
        "requestParameters": "request_parameters",
        "passthroughBehavior": "passthrough_behaviour",
        "credentials": "credentials",
        "contentHandling": "content_handling",
        "timeoutInMillis": "timeout_in_millis",
        "connectionType": "connection_type",
    },
    "integration_response": {
        "selectionPattern": "selection_pattern",
        "responseTemplates": "response_templates",
        "responseParameters": "response_parameters",
        "contentHandling": "content_handling",
    },
    "method_response": {"responseModels": "response_models", "responseParameters": "response_parameters"},
    "model": {"schema": "schema", "description": "description"},
    "resource": {"parentId": "parent_id", "pathPart": "path_part"},
}


_BOOLEAN_VALUES = {"apiKeyRequired", "requestParameters"}


def apply_patch(target: Any, kind: str, operations: list[dict[str, Any]]) -> None:
    """Apply API Gateway patch operations (add, replace, remove) to a moto model; unknown paths are refused."""
    fields = _PATCHABLE[kind]
    for operation in operations:
        name, _, key = str(operation.get("path", "")).lstrip("/").partition("/")
        attribute = fields.get(name)
        if attribute is None or operation.get("op") not in ("add", "replace", "remove"):
            raise BadRequestException(f"Invalid patch path {operation.get('path')!r} for {operation.get('op')!r}")
        value: Any = operation.get("value")
        if name in _BOOLEAN_VALUES and kind == "method" and isinstance(value, str):
            value = value == "true"
        if not key:
            setattr(target, attribute, None if operation["op"] == "remove" else value)
            continue
        mapping = dict(getattr(target, attribute) or {})
        key = key.replace("~1", "/").replace("~0", "~")
        if operation["op"] == "remove":
            mapping.pop(key, None)
        else:
            mapping[key] = value
        setattr(target, attribute, mapping)


def api_gateway_updates(patcher: Patcher) -> None:
    """UpdateMethod, UpdateIntegration, UpdateIntegrationResponse, UpdateMethodResponse, UpdateModel, UpdateResource."""
    responses = apigateway_responses.APIGatewayResponse

    def parts(self: Any) -> list[str]:
        return [urllib.parse.unquote(p) for p in self.path.split("/")]

    def method(self: Any) -> Any:
        p = parts(self)
        return self.backend.get_method(p[2], p[4], p[6])

    def answer(self: Any, kind: str, target: Any, render: Any) -> str:
        apply_patch(target, kind, self._get_param("patchOperations") or [])
        return json.dumps(render(target))

    def update_method(self: Any) -> str:
        return answer(self, "method", method(self), lambda m: m.to_json())

    def update_integration(self: Any) -> str:
        return answer(self, "integration", method(self).method_integration, lambda i: i.to_json())

    def update_integration_response(self: Any) -> str:
        target = method(self).method_integration.get_integration_response(parts(self)[-1])
        return answer(self, "integration_response", target, lambda r: r.to_json())

    def update_method_response(self: Any) -> str:
        target = method(self).method_responses[parts(self)[-1]]
        return answer(self, "method_response", target, lambda r: r.to_json())

    def update_model(self: Any) -> str:
        p = parts(self)
        return answer(self, "model", self.backend.get_model(p[2], p[4]), lambda m: m.to_json())

    def update_resource(self: Any) -> str:
        p = parts(self)
        return answer(self, "resource", self.backend.get_resource(p[2], p[4]), lambda r: r.to_dict())

    for handler in (
        update_method,
        update_integration,
        update_integration_response,
        update_method_response,
        update_model,
        update_resource,
    ):
        patcher.add(responses, handler.__name__, handler)


def authorizer_pools_updated(patcher: Patcher) -> None:
    """UpdateAuthorizer's ``add`` and ``remove`` of ``/providerARNs`` (the pool's ARN as the value), as the AWS
    provider sends them (https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateAuthorizer.html); the
    other paths go to moto's own."""
    authorizer = apigateway_models.Authorizer
    moto_apply = authorizer.apply_operations

    def apply_operations(self: Any, patch_operations: list[dict[str, Any]]) -> Any:
        others = []
        for operation in patch_operations:
            if operation.get("path") != "/providerARNs":
                others.append(operation)
                continue
            pools = list(self.provider_arns or [])
            if operation.get("op") == "add" and operation["value"] not in pools:
                pools.append(operation["value"])
            elif operation.get("op") == "remove":
                pools = [arn for arn in pools if arn != operation.get("value")]
            elif operation.get("op") not in ("add", "remove"):
                raise BadRequestException(f"Invalid patch operation {operation.get('op')!r} for /providerARNs")
            self.provider_arns = pools
        return moto_apply(self, others)

    patcher.replace(authorizer, "apply_operations", apply_operations)


# The local account's Lambda runtime, once started: (function name, event) -> (result, error, error type).
ROUTES: list[Any] = []


def route_invocations(invoke: Any) -> None:
    """Send Lambda ``Invoke`` calls to ``invoke(name, event)``, which answers (result, error, error type)."""
    ROUTES[:] = [invoke]


def invocations_run_locally(patcher: Patcher) -> None:
    """Lambda's Invoke answered by the local runtime that ``route_invocations`` named."""

    def invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> bytes:
        if not ROUTES:
            raise RuntimeError("the local account's Lambda runtime is not started")
        result, error, error_type = ROUTES[0](self.function_name, json.loads(body) if body else {})
        if error is not None:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorMessage": error, "errorType": error_type or "Error"}).encode()
        return json.dumps(result).encode()

    patcher.replace(lambda_models.LambdaFunction, "invoke", invoke)
