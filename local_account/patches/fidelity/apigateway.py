"""Fidelity patches of API Gateway: stages answer and refuse as AWS's do.

* An API Gateway stage says when it was created and last updated (``createdDate``, ``lastUpdatedDate``),
  as GetStage does on AWS; ``ledger-ops guard init`` waits from the last update.
* A stage update takes effect whole: a request the stage serves meanwhile sees the stage before it or after
  it, never half of its operations, and an update with an operation that fails changes nothing.
* A stage update that turns on access or execution logging while the account names no API Gateway
  CloudWatch role is refused, as AWS refuses it at apply time, so that a first apply that would fail in a
  fresh account fails locally.
* A request's parameters are its URI's and its JSON body's: a mapping template whose text holds ``&type=``
  is stored as text and sets nothing else.
* A method without an integration answers NotFoundException when its integration, or one of its integration's
  responses, is read or deleted.
* A deployment is a snapshot of the API taken when it is created: what changes afterwards reaches a stage
  only through a new deployment.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any
from urllib.parse import parse_qs

import moto.apigateway.exceptions as apigateway_exceptions
import moto.apigateway.models as apigateway_models
import moto.apigateway.responses as apigateway_responses

from ...patching import Patcher


def stages_dated(patcher: Patcher) -> None:
    """A stage records when it was created and when it last changed, and GetStage answers both, as AWS's
    does (https://docs.aws.amazon.com/apigateway/latest/api/API_GetStage.html: createdDate, lastUpdatedDate)."""
    stage = apigateway_models.Stage
    created, updated, answered = stage.__init__, stage.apply_operations, stage.to_json

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        created(self, *args, **kwargs)
        self.created_date = self.last_updated_date = time.time()

    def apply_operations(self: Any, patch_operations: list[dict[str, Any]]) -> Any:
        changed = updated(self, patch_operations)
        self.last_updated_date = time.time()
        return changed

    def to_json(self: Any) -> dict[str, Any]:
        return {**answered(self), "createdDate": self.created_date, "lastUpdatedDate": self.last_updated_date}

    patcher.replace(stage, "__init__", init)
    patcher.replace(stage, "apply_operations", apply_operations)
    patcher.replace(stage, "to_json", to_json)


def stage_updates_whole(patcher: Patcher) -> None:
    """UpdateStage is an HTTP PATCH (https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateStage.html),
    which a server applies atomically, never showing a partly modified resource, and not at all if an
    operation fails (RFC 5789, section 2: https://www.rfc-editor.org/rfc/rfc5789#section-2).

    moto applies the operations one by one to the stage it serves, so that a request served meanwhile could
    see a new deployment with the old variables, or the variables while they are being changed. Here they are
    applied to a copy of the stage's state, which then takes the place of the old state in one step: whoever
    holds the old state (``vars(stage)``, as the local gateway reads it) sees it unchanged."""
    stage = apigateway_models.Stage
    applied = stage.apply_operations

    def whole(self: Any, patch_operations: list[dict[str, Any]]) -> Any:
        draft = copy.deepcopy(self)
        applied(draft, patch_operations)
        self.__dict__ = draft.__dict__
        return self

    patcher.replace(stage, "apply_operations", whole)


# API Gateway writes access and execution logs through the account's CloudWatch role, and refuses a stage
# update that turns either on while the account names none (set-up-logging.html, "Permissions for
# CloudWatch logging"); metrics need no role.
LOGGING_NEEDS_ROLE = "CloudWatch Logs role ARN must be set in account settings to enable logging"


def turns_logging_on(operation: dict[str, Any]) -> bool:
    """Whether a stage patch operation enables access logging, execution logging or data tracing."""
    path, value = str(operation.get("path", "")), str(operation.get("value", ""))
    if operation.get("op") not in ("add", "replace") or not value:
        return False
    if path == "/accessLogSettings/destinationArn":
        return True
    setting = path.rpartition("/logging/")[2] if "/logging/" in path else ""
    return (setting == "loglevel" and value.upper() != "OFF") or (setting == "dataTrace" and value == "true")


def logging_needs_the_account_role(patcher: Patcher) -> None:
    """UpdateStage that enables logging is refused while the account has no cloudwatchRoleArn, as on AWS."""
    backend = apigateway_models.APIGatewayBackend
    update_stage = backend.update_stage

    def checked(self: Any, function_id: str, stage_name: str, patch_operations: Any) -> Any:
        enables = any(turns_logging_on(op) for op in patch_operations or [])
        if enables and not self.get_account().cloudwatch_role_arn:
            raise apigateway_exceptions.BadRequestException(LOGGING_NEEDS_ROLE)
        return update_stage(self, function_id, stage_name, patch_operations)

    patcher.replace(backend, "update_stage", checked)


def parameters_where_aws_reads_them(patcher: Patcher) -> None:
    """API Gateway's control plane is REST with JSON bodies: PutIntegration, for one, takes its parameters from
    the URI and the JSON body (https://docs.aws.amazon.com/apigateway/latest/api/API_PutIntegration.html).

    moto reads a parameter from the query string first, and when the URL has none it parses the body as a
    form (then takes the headers): a request template whose text held ``&type=`` set the integration's type to
    the rest of its line, ``&credentials=`` its role. Terraform then saw a type it had not set and replaced
    the integration, which deleted it. Here the query string is the URL's own, and every other parameter
    comes from the JSON body, as moto's ``_get_param`` reads it next."""
    responses = apigateway_responses.APIGatewayResponse
    moto_setup = responses.setup_class

    def setup_class(self: Any, request: Any, *args: Any, **kwargs: Any) -> None:
        moto_setup(self, request, *args, **kwargs)
        self.querystring = parse_qs(self.parsed_url.query, keep_blank_values=True)
        self.data = self.querystring

    patcher.replace(responses, "setup_class", setup_class)


def missing_integrations_not_found(patcher: Patcher) -> None:
    """GetIntegration, DeleteIntegration and GetIntegrationResponse (and the other actions on an integration's
    responses) of a method without an integration answer NotFoundException, as AWS lists it among their errors
    (https://docs.aws.amazon.com/apigateway/latest/api/API_GetIntegrationResponse.html), and as the AWS
    provider reads "gone". moto answered GetIntegration with an empty object and failed the others with
    500, which the provider retried for minutes in a destroy."""
    backend = apigateway_models.APIGatewayBackend
    moto_get, moto_delete = backend.get_integration, backend.delete_integration

    def get_integration(self: Any, function_id: str, resource_id: str, method_type: str) -> Any:
        integration = moto_get(self, function_id, resource_id, method_type)
        if integration is None:
            raise apigateway_exceptions.NoIntegrationDefined()
        return integration

    def delete_integration(self: Any, function_id: str, resource_id: str, method_type: str) -> Any:
        get_integration(self, function_id, resource_id, method_type)
        return moto_delete(self, function_id, resource_id, method_type)

    patcher.replace(backend, "get_integration", get_integration)
    patcher.replace(backend, "delete_integration", delete_integration)


SNAPSHOT_TRIES = 5  # reads of an API that an apply changes meanwhile (a dict changed while it was read)


def configuration(api: Any) -> dict[str, Any]:
    """What a deployment of ``api`` (moto's RestAPI) serves, as JSON data in the shapes of API Gateway's Get*
    answers: its resources with their methods, integrations and integration responses, its authorizers,
    request validators, models and gateway responses."""
    for _ in range(SNAPSHOT_TRIES - 1):
        try:
            return _configuration(api)
        except RuntimeError:  # an apply changed a dict while it was read: read again
            continue
    return _configuration(api)


def _configuration(api: Any) -> dict[str, Any]:
    taken = {
        "resources": [r.to_dict() for r in list(api.resources.values())],
        "authorizers": [a.to_json() for a in list(api.authorizers.values())],
        "validators": [v.to_dict() for v in list(api.request_validators.values())],
        "models": [m.to_json() for m in list(api.models.values())],
        "gateway_responses": [g.to_json() for g in list(api.gateway_responses.values())],
    }
    return dict(json.loads(json.dumps(taken, default=str)))  # a copy: later changes do not reach it


def deployments_are_snapshots(patcher: Patcher) -> None:
    """A deployment is "a snapshot of your API's resources and methods", which a stage serves until it is
    pointed at another (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-deployments.html,
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-basic-concept.html: "API deployment").

    moto keeps no configuration in a deployment, and the local gateway read the API as it was at a stage's
    first request after a redeploy: a method deleted after the deployment was made, before that request,
    was not served, although AWS serves it. That hid an apply that made a deployment before it deleted
    what the deployment must no longer serve. Here the deployment keeps a copy of the API as it is when the
    deployment is created (``configuration``), which the gateway serves."""
    api = apigateway_models.RestAPI
    created = api.create_deployment

    def create_deployment(self: Any, *args: Any, **kwargs: Any) -> Any:
        deployment = created(self, *args, **kwargs)
        deployment.configuration = configuration(self)  # type: ignore[attr-defined]
        return deployment

    patcher.replace(api, "create_deployment", create_deployment)
