"""The local account holds each function to its execution role, as AWS does.

A function calls AWS with its role's credentials, and AWS refuses what no statement of the role's
policies allows (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html).
moto answers every call, so a function that needs an action its role lacks passed here and would be
refused on AWS: the store began to read the summary table, and nothing here failed.

The local runtime gives each function's execution environments an access key of their own
(``access_key``). A request signed with one is checked before moto sees it: the IAM actions it needs
and their resources (``needed``) must each be allowed by the role's inline and attached policies,
read from the local IAM and evaluated by ``local_account.iam``; otherwise the answer is the service's
``AccessDeniedException``. A call whose actions the local account cannot name is refused too, naming
the call, so that a new kind of call is modelled rather than waved through. A statement's conditions are
read on the keys modelled here (``condition_keys``); a condition on any other key never allows.

Actions as IAM names them: a DynamoDB transaction needs each item's own action
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html), an SQS
batch the action of one message (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID

from . import iam

ACCOUNT = DEFAULT_ACCOUNT_ID  # the account moto serves
_PREFIX = "LOCALFN"
_KEYS: dict[str, str] = {}  # access key id -> function name
_LOCK = threading.Lock()
_CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
_SQS_BATCHES = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
_LAMBDA_PATHS = [
    ("GET", re.compile(r"/2015-03-31/functions/([^/]+)/configuration"), "GetFunctionConfiguration"),
    ("GET", re.compile(r"/2015-03-31/functions/([^/]+)"), "GetFunction"),
    ("POST", re.compile(r"/2015-03-31/functions/([^/]+)/invocations"), "InvokeFunction"),
]


class UnmodelledCallError(Exception):
    """The local account cannot tell which IAM actions a call needs."""


@dataclass(frozen=True, slots=True)
class Call:
    """One signed request, as the check reads it."""

    service: str
    region: str
    method: str
    path: str
    target: str  # X-Amz-Target, empty for REST and query protocols
    body: bytes


def access_key(function: str) -> str:
    """The access key id the execution environments of ``function`` sign with (registered here)."""
    key = _PREFIX + hashlib.sha256(function.encode()).hexdigest()[:13].upper()
    with _LOCK:
        _KEYS[key] = function
    return key


def scope(authorization: str) -> tuple[str, str, str] | None:
    """(access key id, region, service) of a SigV4 Authorization header; None when it has no credential scope."""
    match = _CREDENTIAL.search(authorization)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def caller(authorization: str) -> tuple[str, str, str] | None:
    """(function, region, service) of a request signed with a function's key; None for anyone else."""
    signed = scope(authorization)
    if not signed or not signed[0].startswith(_PREFIX):
        return None
    with _LOCK:
        function = _KEYS.get(signed[0])
    return (function, signed[1], signed[2]) if function else None


def needed(call: Call) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs a call needs; raises UnmodelledCallError when unknown."""
    readers: dict[str, Callable[[Call], list[tuple[str, str]]]] = {
        "dynamodb": _dynamodb,
        "sqs": _sqs,
        "lambda": _lambda,
    }
    reader = readers.get(call.service)
    if reader is None:
        raise UnmodelledCallError(f"a {call.service} call")
    return reader(call)


def refusal(role_policies: Iterable[str | Mapping[str, Any]], call: Call) -> str | None:
    """Why the call is refused under the role's policies, or None when every action is allowed."""
    try:
        pairs = needed(call)
    except UnmodelledCallError as error:
        return f"the local account cannot tell which IAM actions {error} needs"
    documents = iam.parsed(role_policies)  # once per call, not once per transaction item
    context = condition_keys(call)
    for action, resource in dict.fromkeys(pairs):
        if not iam.allowed(documents, action, resource, context):
            return f"is not authorized to perform: {action} on resource: {resource}"
    return None


def condition_keys(call: Call) -> dict[str, str | None]:
    """The condition keys modelled for a call, with their values (None: absent from this request).

    DynamoDB names the operation that encloses a transaction's item in ``dynamodb:EnclosingOperation``
    (TransactWriteItems or TransactGetItems), and leaves it out of any other request
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html). No other
    key is modelled: a condition on one never allows here."""
    if call.service != "dynamodb":
        return {}
    operation = call.target.rpartition(".")[2]
    enclosing = operation if operation in ("TransactWriteItems", "TransactGetItems") else None
    return {"dynamodb:EnclosingOperation": enclosing}


def _dynamodb(call: Call) -> list[tuple[str, str]]:
    operation = call.target.rpartition(".")[2]
    body = json.loads(call.body or b"{}")

    def table(name: str, index: str | None = None) -> str:
        arn = f"arn:aws:dynamodb:{call.region}:{ACCOUNT}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    if operation in ("TransactWriteItems", "TransactGetItems"):
        pairs = []
        for item in body.get("TransactItems", []):
            ((kind, detail),) = item.items()
            pairs.append((f"dynamodb:{_TRANSACT_ACTIONS.get(kind, kind + 'Item')}", table(detail["TableName"])))
        return pairs
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{operation}", table(name)) for name in body.get("RequestItems", {})]
    if "TableName" not in body:
        raise UnmodelledCallError(f"DynamoDB {operation or '(no target)'}")
    return [(f"dynamodb:{operation}", table(body["TableName"], body.get("IndexName")))]


def _sqs(call: Call) -> list[tuple[str, str]]:
    if call.target:
        operation, body = call.target.rpartition(".")[2], json.loads(call.body or b"{}")
    else:  # the query protocol
        form = urllib.parse.parse_qs(call.body.decode())
        operation, body = form.get("Action", [""])[0], {k: v[0] for k, v in form.items()}
    name = str(body.get("QueueUrl") or "").rstrip("/").rpartition("/")[2] or str(body.get("QueueName") or "")
    if not operation or not name:
        raise UnmodelledCallError(f"SQS {operation or '(no action)'}")
    return [(f"sqs:{_SQS_BATCHES.get(operation, operation)}", f"arn:aws:sqs:{call.region}:{ACCOUNT}:{name}")]


def _lambda(call: Call) -> list[tuple[str, str]]:
    path = urllib.parse.unquote(call.path)
    for method, pattern, action in _LAMBDA_PATHS:
        match = pattern.fullmatch(path)
        if call.method == method and match:
            name = match.group(1).rpartition(":function:")[2].split(":")[0]
            return [(f"lambda:{action}", f"arn:aws:lambda:{call.region}:{ACCOUNT}:function:{name}")]
    raise UnmodelledCallError(f"Lambda {call.method} {path}")


_ROLES: dict[tuple[str, str], str] = {}  # (function, region) -> its execution role's ARN, as last seen


def role_policies(function: str, region: str) -> tuple[str, list[Any]]:
    """The ARN of a function's execution role and its inline and attached policy documents, from moto. A
    function deleted while it runs (a destroy) keeps its role's session: its calls are held to the role's
    policies as they stand, and a deleted role grants nothing."""
    from moto.awslambda.exceptions import UnknownFunctionException  # noqa: PLC0415 - moto's, with the account
    from moto.awslambda.models import lambda_backends  # noqa: PLC0415

    try:
        role_arn = _ROLES[(function, region)] = str(lambda_backends[ACCOUNT][region].get_function(function).role)
    except UnknownFunctionException:
        role_arn = _ROLES.get((function, region), f"arn:aws:iam::{ACCOUNT}:role/{function}-deleted")
    return role_arn, role_documents(role_arn)


def _role(role_arn: str) -> Any:
    """moto's IAM role of ``role_arn``, or None when the role does not exist."""
    from moto.iam.exceptions import NotFoundException  # noqa: PLC0415 - moto's models load with the account
    from moto.iam.models import iam_backends  # noqa: PLC0415

    try:
        return iam_backends[ACCOUNT]["global"].get_role(role_arn.rpartition("/")[2])
    except NotFoundException:
        return None


def trust_policy(role_arn: str) -> str | None:
    """A role's trust policy (who may assume it), from moto's IAM; None when the role does not exist."""
    role = _role(role_arn)
    return None if role is None else urllib.parse.unquote(str(role.assume_role_policy_document))


def role_documents(role_arn: str) -> list[Any]:
    """A role's inline and attached policy documents, from moto's IAM; none when the role does not exist."""
    role = _role(role_arn)
    if role is None:
        return []
    documents: list[Any] = list(role.policies.values())
    for policy in role.managed_policies.values():
        documents += [v.document for v in policy.versions if v.version_id == policy.default_version_id]
    return documents


def denied_answer(service: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """The status, headers and body AWS answers a call its caller is not authorized to make."""
    if service == "lambda":
        body = json.dumps({"Type": "User", "Message": message}).encode()
        return 403, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException")], body
    body = json.dumps({"__type": "com.amazon.coral.service#AccessDeniedException", "message": message}).encode()
    return 400, [("Content-Type", "application/x-amz-json-1.0")], body
