"""API Gateway execution for the local account: serves each deployed REST API and stage.

URL: ``http://127.0.0.1:<port>/<restApiId>/<stage>/<path>``. For each request it
resolves the resource and method as deployed in the local account; authorizes the caller
as the method says (``local_account.auth``: AWS_IAM verifies the SigV4 signature against the
local account's credentials; COGNITO_USER_POOLS verifies the ID token against the
authorizer's user pools and hands its claims to the templates as
``$context.authorizer.claims``); runs the request validator (required
parameters, the body against its JSON-schema model, with API Gateway's
``validationErrorString`` wording); renders the request template with API
Gateway's VTL semantics (``local_account.vtl``); calls the DynamoDB action on the
moto's server (or, for a mock integration, takes the status code its template names);
selects the integration response by matching its selection pattern against the
integration's status code; renders the response template with
``$context.responseOverride``; and answers validation, authorization and media
type errors through the gateway responses.

A stage serves its deployment: the snapshot of the API taken when the deployment was made
(the patch "API Gateway deployments are snapshots"), loaded once per deployment. A request reads
the stage's current deployment id from the moto's in-process state, and a new id (a redeploy)
loads that deployment's snapshot. Stage variables are the stage's own, read for every
request: a change takes effect without a redeploy, as on AWS (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-set-stage-variables-aws-console.html).
DynamoDB calls go to moto's server, which runs in the same process, as in-process WSGI
calls (``moto_server.call_in_process``); the gateway itself keeps client connections alive
(HTTP/1.1), as AWS's endpoints do.

Not emulated: stage throttling and usage plans, IAM authorization of the
integration role (moto does not enforce IAM), Lambda or HTTP integrations.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import secrets
import threading
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import jsonschema
from botocore.awsrequest import AWSRequest
from moto.apigateway.exceptions import NotFoundException as ApiNotFound
from moto.apigateway.models import apigateway_backends

from .auth import CognitoVerifier, Denied, access_key, caller_of, verify_sigv4
from .clock import Clock
from .lambdas import ACCOUNT
from .moto_server import call_in_process, dynamodb_headers
from .patches.fidelity.apigateway import configuration
from .vtl import Request, carry_overrides, render

JSON = "application/json"
GATEWAY_DEFAULTS = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "INVALID_SIGNATURE": (403, "Invalid signature"),
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "Access denied"),
    "BAD_REQUEST_BODY": (400, "Invalid request body"),
    "BAD_REQUEST_PARAMETERS": (400, "Missing required request parameters"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "Unsupported Media Type"),
    "INTEGRATION_FAILURE": (504, "Internal server error"),
}


@dataclass
class Reply:
    """An HTTP answer."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Method:
    resource_path: str
    resource_id: str
    http_method: str
    authorization: str
    authorizer: dict[str, Any] | None
    validator: dict[str, Any] | None
    model_schema: dict[str, Any] | None
    parameters: dict[str, bool]
    integration: dict[str, Any]


@dataclass
class _Api:
    api_id: str
    stage: str
    deployment: str
    variables: dict[str, str]
    methods: list[_Method]
    gateway_responses: dict[str, dict[str, Any]]


class Gateway:
    """Executes requests against the REST APIs deployed in the local account."""

    def __init__(self, endpoint: str, region: str, secrets: dict[str, str], clock: Clock | None = None) -> None:
        self._endpoint = endpoint
        self._clock = clock or Clock()  # the account's: a request's time (local_account.clock)
        self._region = region
        self._secrets = secrets  # access key id -> secret: the credentials SigV4 signatures are checked with
        key, secret = next(iter(secrets.items()))
        session = boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name=region)
        self._cognito = session.client("cognito-idp", endpoint_url=endpoint)
        self._tokens = CognitoVerifier(self._jwks, self._app_clients)
        self._cache: dict[tuple[str, str], _Api] = {}
        self._lock = threading.Lock()
        self.loads = 0  # how many times an API's configuration was loaded (a test counts redeploys)

    # -- loading what is deployed -------------------------------------------------------------

    def _deployed(self, api_id: str, stage: str) -> tuple[str, dict[str, str]] | None:
        """The stage's deployment id and variables, from the local account's state (no request)."""
        try:
            described = apigateway_backends[ACCOUNT][self._region].get_stage(api_id, stage)
        except ApiNotFound:
            return None
        state = vars(described)  # read once: an update puts a new state in its place, whole (UpdateStage's patch)
        return str(state.get("deployment_id") or ""), dict(state.get("variables") or {})

    def _api(self, api_id: str, stage: str) -> _Api | None:
        """The stage's deployment, loaded once per deployment id, with the stage's variables as they are now:
        they belong to the stage, not to its deployment, and take effect without a redeploy."""
        deployed = self._deployed(api_id, stage)
        if deployed is None:
            return None
        deployment, variables = deployed
        with self._lock:
            cached = self._cache.get((api_id, stage))
        if cached is None or cached.deployment != deployment:
            cached = self._load(api_id, stage, deployment, variables)
            with self._lock:
                self._cache[(api_id, stage)] = cached
                self.loads += 1
        return dataclasses.replace(cached, variables=variables)

    def _jwks(self, pool: str) -> dict[str, Any]:
        """A user pool's public keys, from the pool's JWKS address (in the local account)."""
        with urllib.request.urlopen(f"{self._endpoint}/{pool}/.well-known/jwks.json", timeout=10) as answer:
            return dict(json.load(answer))

    def _app_clients(self, pool: str) -> set[str]:
        """The ids of a user pool's app clients: the audiences its ID tokens may have."""
        listed = self._cognito.list_user_pool_clients(UserPoolId=pool, MaxResults=60).get("UserPoolClients", [])
        return {c["ClientId"] for c in listed}

    def _load(self, api_id: str, stage: str, deployment: str, variables: dict[str, str]) -> _Api:
        """The deployment's configuration: the snapshot taken when it was made (the patch "API Gateway
        deployments are snapshots"), or the API as it is now where no snapshot was taken."""
        rest_api = apigateway_backends[ACCOUNT][self._region].get_rest_api(api_id)
        made = rest_api.deployments.get(deployment)
        taken = getattr(made, "configuration", None) or configuration(rest_api)
        validators = {v["id"]: v for v in taken["validators"]}
        authorizers = {a["id"]: a for a in taken["authorizers"]}
        models = {m["name"]: m for m in taken["models"]}
        methods = []
        for resource in taken["resources"]:
            for verb, method in (resource.get("resourceMethods") or {}).items():
                model_name = (method.get("requestModels") or {}).get(JSON)
                schema = json.loads(models[model_name]["schema"]) if model_name in models else None
                methods.append(
                    _Method(
                        resource_path=resource["path"],
                        resource_id=resource["id"],
                        http_method=verb,
                        authorization=method.get("authorizationType") or "NONE",
                        authorizer=authorizers.get(method.get("authorizerId") or ""),
                        validator=validators.get(method.get("requestValidatorId") or ""),
                        model_schema=schema,
                        parameters=method.get("requestParameters") or {},
                        integration=method.get("methodIntegration") or {},
                    )
                )
        responses = {r["responseType"]: r for r in taken["gateway_responses"]}
        return _Api(api_id, stage, deployment, variables, methods, responses)

    # -- one request ----------------------------------------------------------------------------

    def handle(self, verb: str, raw_path: str, headers: dict[str, str], body: str) -> Reply:
        """Execute one HTTP request."""
        parsed = urllib.parse.urlsplit(raw_path)
        parts = parsed.path.strip("/").split("/", 2)
        context = self._context(verb, headers, self._clock.now_ms())
        if len(parts) < 2:
            return Reply(404, json.dumps({"message": "Not Found"}), {"Content-Type": JSON})
        api = self._api(parts[0], parts[1])
        if api is None:
            return Reply(404, json.dumps({"message": "Not Found"}), {"Content-Type": JSON})
        path = "/" + (parts[2] if len(parts) > 2 else "")
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
        match = self._route(api, verb, path)
        if match is None:
            return self._gateway(api, "MISSING_AUTHENTICATION_TOKEN", context, {})
        method, path_params = match
        context.update(
            resourcePath=method.resource_path,
            resourceId=method.resource_id,
            stage=api.stage,
            apiId=api.api_id,
            path=f"/{api.stage}{path}",
        )
        request = Request(
            body=body,
            path=path_params,
            querystring=query,
            headers=headers,
            context=context,
            stage_variables=api.variables,
        )
        url = f"http://{headers.get('host', 'localhost')}{raw_path}"
        refusal = self._authorize(api, method, request, url) or self._refuse(api, method, request, headers)
        return refusal or self._integrate(method, request)

    @staticmethod
    def _context(verb: str, headers: dict[str, str], epoch_ms: int) -> dict[str, Any]:
        now = datetime.fromtimestamp(epoch_ms / 1000, UTC)
        return {
            # "$context.requestId: An ID for the request. Clients can override this request ID."; the
            # extendedRequestId is API Gateway's own, base64 like "Jg3QbHxxIAMEbkA=" (11 random bytes).
            # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
            "requestId": headers.get("x-amzn-requestid") or str(uuid.uuid4()),
            "extendedRequestId": base64.b64encode(secrets.token_bytes(11)).decode(),
            "requestTimeEpoch": epoch_ms,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "httpMethod": verb,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("user-agent", ""), "caller": None},
            "domainName": "localhost",
        }

    @staticmethod
    def _route(api: _Api, verb: str, path: str) -> tuple[_Method, dict[str, str]] | None:
        segments = [urllib.parse.unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
        for method in api.methods:
            if method.http_method not in (verb, "ANY"):
                continue
            template = [s for s in method.resource_path.strip("/").split("/") if s]
            if len(template) != len(segments):
                continue
            params: dict[str, str] = {}
            for expected, actual in zip(template, segments, strict=True):
                if expected.startswith("{") and expected.endswith("}"):
                    params[expected[1:-1]] = actual
                elif expected != actual:
                    break
            else:
                return method, params
        return None

    def _authorize(self, api: _Api, method: _Method, request: Request, url: str) -> Reply | None:
        """The caller's signature or token, as the method's authorization says; the claims go into the context."""
        denied: Denied | None = None
        if method.authorization == "AWS_IAM":
            signed = AWSRequest(method=method.http_method, url=url, data=request.body.encode())
            caller = caller_of(access_key(request.headers.get("authorization", "")), self._secrets, ACCOUNT)
            secrets = {caller.key: caller.secret} if caller else {}
            denied = verify_sigv4(signed, request.headers, self._region, secrets)
            denied = denied or (caller.permits(self._invoke_arn(api, request)) if caller else None)
        elif method.authorization == "COGNITO_USER_POOLS":
            source = ((method.authorizer or {}).get("identitySource") or "method.request.header.Authorization").lower()
            token = request.headers.get(source.removeprefix("method.request.header."), "")
            claims = self._tokens.claims(token, list((method.authorizer or {}).get("providerARNs") or []))
            if isinstance(claims, Denied):
                denied = claims
            else:
                request.context["authorizer"] = {"claims": claims}
        if denied is None:
            return None
        return self._gateway(api, denied.kind, dict(request.context), {"message": denied.message})

    def _invoke_arn(self, api: _Api, request: Request) -> str:
        """The method's execute-api ARN, with the request's path: what an IAM policy must allow."""
        path = request.context["path"].removeprefix(f"/{api.stage}")
        method = request.context["httpMethod"]
        return f"arn:aws:execute-api:{self._region}:{ACCOUNT}:{api.api_id}/{api.stage}/{method}{path}"

    def _refuse(self, api: _Api, method: _Method, request: Request, headers: dict[str, str]) -> Reply | None:
        """Media type and validator checks, in API Gateway's order (after authorization)."""
        context = dict(request.context)
        content_type = headers.get("content-type", JSON).split(";")[0].strip().lower() or JSON
        templates = method.integration.get("requestTemplates") or {}
        if request.body and content_type not in templates and method.integration.get("passthroughBehavior") == "NEVER":
            return self._gateway(api, "UNSUPPORTED_MEDIA_TYPE", context, {})
        validator = method.validator or {}
        if validator.get("validateRequestParameters"):
            missing = [
                name for name, required in method.parameters.items() if required and not self._param(request, name)
            ]
            if missing:
                message = f"Missing required request parameters: [{', '.join(n.split('.')[-1] for n in missing)}]"
                return self._gateway(api, "BAD_REQUEST_PARAMETERS", context, {"message": message})
        if validator.get("validateRequestBody") and method.model_schema is not None:
            problem = validation_error(method.model_schema, request.body)
            if problem is not None:
                return self._gateway(api, "BAD_REQUEST_BODY", context, {"validationErrorString": problem})
        return None

    @staticmethod
    def _param(request: Request, name: str) -> str:
        kind, _, key = name.removeprefix("method.request.").partition(".")
        source = {"path": request.path, "querystring": request.querystring, "header": request.headers}.get(kind, {})
        return source.get(key.lower() if kind == "header" else key, "")

    def _integrate(self, method: _Method, request: Request) -> Reply:
        integration = method.integration
        template = (integration.get("requestTemplates") or {}).get(JSON, "")
        if template:
            sent = render(template, request)
            rendered, request = sent.body, carry_overrides(request, sent)
        else:
            rendered = request.body
        if integration.get("type") == "MOCK":
            status, backend = self._mock(rendered)
        else:
            status, backend = self._call(integration.get("uri") or "", rendered)
        chosen = self._select(integration.get("integrationResponses") or {}, status)
        if chosen is None:
            return Reply(500, json.dumps({"message": "Internal server error"}), {"Content-Type": JSON})
        response_template = (chosen.get("responseTemplates") or {}).get(JSON)
        out = render(response_template, request, integration_body=backend) if response_template else None
        headers = {"Content-Type": JSON, "x-amzn-RequestId": request.context["requestId"]}
        for name, value in (chosen.get("responseParameters") or {}).items():
            headers[name.split(".")[-1]] = value.strip("'")
        if out is None:
            return Reply(int(chosen["statusCode"]), backend, headers)
        headers.update(out.headers)
        return Reply(out.status or int(chosen["statusCode"]), out.body, headers)

    def _call(self, uri: str, body: str) -> tuple[int, str]:
        match = re.match(r"arn:aws:apigateway:([^:]+):dynamodb:action/(\w+)$", uri)
        if not match:
            return 500, json.dumps({"message": f"integration not emulated: {uri}"})
        region, action = match.groups()
        answer = call_in_process(self._endpoint, "/", body.encode(), dynamodb_headers(action, region))
        if answer is None:
            return 500, json.dumps({"message": f"moto's server at {self._endpoint} does not run in this process"})
        return answer

    @staticmethod
    def _mock(rendered: str) -> tuple[int, str]:
        """A mock integration answers the status code its request template names, with no body:
        "the mapping template ... {"statusCode": 200}" selects the integration response
        (https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-mock-integration.html)."""
        try:
            return int(json.loads(rendered)["statusCode"]), ""
        except (ValueError, KeyError, TypeError):
            return 500, json.dumps({"message": "a mock integration's template names no statusCode"})

    @staticmethod
    def _select(responses: dict[str, dict[str, Any]], status: int) -> dict[str, Any] | None:
        default = None
        for response in responses.values():
            pattern = response.get("selectionPattern")
            if not pattern:
                default = response
            elif re.fullmatch(pattern, str(status)):
                return response
        return default

    def _gateway(self, api: _Api, kind: str, context: dict[str, Any], error: dict[str, str]) -> Reply:
        status, message = GATEWAY_DEFAULTS.get(kind, (400, kind))
        message = error.get("message", message)
        context["error"] = {
            "responseType": kind,
            "message": message,
            "messageString": json.dumps(message),
            "validationErrorString": error.get("validationErrorString", ""),
        }
        configured = (
            api.gateway_responses.get(kind)
            or api.gateway_responses.get("DEFAULT_4XX" if status < 500 else "DEFAULT_5XX")
            or {}
        )
        template = (configured.get("responseTemplates") or {}).get(JSON)
        body = substitute(template, context, api.variables) if template else json.dumps({"message": message})
        headers = {"Content-Type": JSON, "x-amzn-ErrorType": kind}
        for name, value in (configured.get("responseParameters") or {}).items():
            headers[name.split(".")[-1]] = value.strip("'")
        return Reply(int(configured.get("statusCode") or status), body, headers)


_VARIABLE = re.compile(r"\$(context|stageVariables)((?:\.[A-Za-z0-9_-]+)+)")


def substitute(template: str, context: dict[str, Any], stage_variables: dict[str, str]) -> str:
    """A gateway response's body as AWS makes it: its ``$context`` and ``$stageVariables`` variables
    substituted as they are, without escaping, and nothing else processed (no Velocity: ``##``, ``#set``
    and ``$util`` stay as written). A variable with no value becomes empty.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.responseTemplates.html
    """

    def value(match: re.Match[str]) -> str:
        found: Any = context if match.group(1) == "context" else stage_variables
        for key in match.group(2).strip(".").split("."):
            found = found.get(key) if isinstance(found, dict) else None
        return "" if found is None or isinstance(found, dict) else str(found)

    return _VARIABLE.sub(value, template)


def validation_error(schema: dict[str, Any], body: str) -> str | None:
    """API Gateway's ``validationErrorString`` for a body its model refuses; None when valid."""
    try:
        document = json.loads(body) if body.strip() else None
    except (json.JSONDecodeError, RecursionError):  # nested deeper than a parser follows: refused whole
        return "Invalid request body"
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(document), key=lambda e: list(e.path))
    if not errors:
        return None
    missing = sorted({m for e in errors if e.validator == "required" for m in _quoted(e.message)})
    messages = []
    if missing:
        messages.append(f"object has missing required properties ({json.dumps(missing, separators=(',', ':'))})")
    for e in errors:
        if e.validator == "additionalProperties":
            extra = sorted(set(e.instance) - set(e.schema.get("properties", {})))
            messages.append(
                f"object instance has properties which are not allowed by the schema: "
                f"{json.dumps(extra, separators=(',', ':'))}"
            )
        elif e.validator == "type":
            allowed = e.validator_value if isinstance(e.validator_value, list) else [e.validator_value]
            messages.append(
                f"instance type ({_json_type(e.instance)}) does not match any allowed primitive type "
                f"(allowed: {json.dumps(allowed, separators=(',', ':'))})"
            )
        elif e.validator != "required":
            messages.append(e.message)
    return "[" + ", ".join(messages) + "]"


def _quoted(message: str) -> list[str]:
    return re.findall(r"'([^']*)' is a required property", message)


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "integer" if isinstance(value, int) else "number"
    )


class _Handler(BaseHTTPRequestHandler):
    gateway: Gateway
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length
    disable_nagle_algorithm = True  # headers and body go out in two writes: no delayed-ACK stall between them

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", errors="replace") if length else ""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            reply = self.gateway.handle(self.command, self.path, headers, body)
        except Exception as error:  # a fault of the local account must still answer, and never 2xx
            reply = Reply(500, json.dumps({"error": "internal", "message": f"local gateway: {error}", "field": None}))
        data = reply.body.encode()
        self.send_response(reply.status)
        for name, value in {"Content-Type": JSON, **reply.headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the access log would drown the demo's output."""


def serve(gateway: Gateway, port: int) -> ThreadingHTTPServer:
    """Serve the gateway on a loopback port in a background thread."""
    handler = type("Handler", (_Handler,), {"gateway": gateway})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, name="apigateway", daemon=True).start()
    return server
