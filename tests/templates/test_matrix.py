"""Every request template in every combination of the options that change it: the balance guard off, on but
not initialised, and initialised, under AWS_IAM and under COGNITO, over the whole refusal set and the hostile
set. Each rendered body must be a valid request of the DynamoDB action the integration is configured with
(modules/api/main.tf: a guarded transaction is a TransactWriteItems), checked against botocore's model of
DynamoDB's API, and each answer must be the documented one (docs/api.md), whatever the combination.

Issue 33 item 6 (reproduced at fe9afc6): with the guard on, every refused POST .../transactions rendered an
UpdateItem body for a TransactWriteItems integration, which the local account answered 500 and AWS 400 naming
no field (403 expected under COGNITO).
"""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from local_account.vtl import Request, render
from tests.support.aws import BALANCES, DETAILS, SUMMARY
from tests.support.templates import OPERATIONS
from tests.support.templates import api_template as template
from tests.templates.test_guard import BAD_LIMITS, EPOCH
from tests.templates.test_templates import (
    BAD_BODIES,
    BAD_TRANSFERS,
    CLAIM,
    EVERY_GRANT,
    HOSTILE,
    TRANSFER,
    call,
    items,
)

UNGUARDED: dict[str, str] = {"detailsTable": DETAILS, "summaryTable": SUMMARY}
SEEDING = {**UNGUARDED, "balancesTable": BALANCES, "guardEpoch": EPOCH}
INITIALISED = {**SEEDING, "guardInitialised": EPOCH}
GUARD = {"off": UNGUARDED, "not initialised": SEEDING, "initialised": INITIALISED}
AUTHORIZATION = ["AWS_IAM", "COGNITO"]
# The DynamoDB action of each method's integration, by whether the guard is on (modules/api/main.tf).
ACTION = {
    ("create_transaction", False): "UpdateItem",
    ("create_transaction", True): "TransactWriteItems",
    ("create_transfer", False): "TransactWriteItems",
    ("create_transfer", True): "TransactWriteItems",
    ("set_limits", True): "UpdateItem",
}
DYNAMODB = botocore.session.get_session().get_service_model("dynamodb")

CREDIT = {"transactionId": "t1", "type": "credit", "amount": "1.00", "currency": "EUR"}
FUNDED = {  # alice's balance item, seeded in the epoch with 100.00 EUR
    "accountId": {"S": "alice"},
    "currency": {"S": "EUR"},
    "available": {"N": "100"},
    "headroom": {"N": "100"},
    "seeded": {"BOOL": True},
    "epoch": {"S": EPOCH},
}
# (method, path, body, the documented answer: status and field)
CASES: list[tuple[str, dict[str, str], Any, int, str | None]] = [
    *[("create_transaction", path, body, 400, field) for path, body, field in BAD_BODIES],
    *[
        ("create_transfer", {"accountId": "alice"}, {**TRANSFER, **change}, 400, field)
        for change, field in BAD_TRANSFERS
    ],
    *[("create_transaction", {"accountId": "alice"}, {**CREDIT, "description": d}, 201, None) for d in HOSTILE],
    *[("create_transfer", {"accountId": "alice"}, {**TRANSFER, "description": d}, 201, None) for d in HOSTILE],
    ("create_transaction", {"accountId": "alice"}, {**CREDIT, 'co"lo\\ur': 1}, 400, 'co"lo\\ur'),
    ("create_transfer", {"accountId": "alice"}, {**TRANSFER, "it's": 1}, 400, "it's"),
    ("create_transaction", {"accountId": "alice"}, "[" * 2000 + "]" * 2000, 400, "body"),
    *[("set_limits", {"accountId": "alice"}, body, 400, field) for body, field in BAD_LIMITS],
    ("set_limits", {"accountId": "alice"}, {"currency": "EUR", "overdraftLimit": "5.00"}, 200, None),
]


def combinations() -> list[Any]:
    found = []
    for method, path, body, status, field in CASES:
        for guard, stage in GUARD.items():
            if (method, "balancesTable" in stage) not in ACTION:
                continue  # PUT .../limits exists only with the guard on
            for authorization in AUTHORIZATION:
                label = f"{method}-{guard}-{authorization}-{json.dumps(body)[:40]}"
                found.append(pytest.param(method, path, body, status, field, stage, authorization, id=label))
    return found


def rendered_request(method: str, path: dict[str, str], body: Any, stage: dict[str, str], cognito: bool) -> Any:
    """The request template's output for this request, as the integration sends it to DynamoDB."""
    context: dict[str, Any] = {"requestId": "r", "extendedRequestId": "Jg3Qb+xx/AMEbkA=", "requestTimeEpoch": 1}
    if cognito:
        context["authorizer"] = {"claims": {CLAIM: path["accountId"]}}
    request = Request(
        body=body if isinstance(body, str) else json.dumps(body),
        path=path,
        context=context,
        stage_variables=stage,
    )
    claim = EVERY_GRANT[OPERATIONS[method]] if cognito else None
    return json.loads(render(template(f"{method}.request.vtl", claim, "balancesTable" in stage), request).body)


@pytest.mark.parametrize(("method", "path", "body", "status", "field", "stage", "authorization"), combinations())
def test_every_rendered_request_is_one_of_the_integrations_action_and_answers_as_documented(  # noqa: PLR0917
    dynamodb: Any,
    method: str,
    path: dict[str, str],
    body: Any,
    status: int,
    field: str | None,
    stage: dict[str, str],
    authorization: str,
) -> None:
    cognito = authorization == "COGNITO"
    action = ACTION[(method, "balancesTable" in stage)]
    sent = rendered_request(method, path, body, stage, cognito)
    shape = DYNAMODB.operation_model(action).input_shape
    assert shape is not None
    report = ParamValidator().validate(sent, shape)
    assert not report.has_errors(), f"not a {action} request: {report.generate_report()}"
    if "balancesTable" in stage:  # the payer holds funds in the epoch, so that a good transfer is written
        dynamodb.put_item(TableName=BALANCES, Item=FUNDED)
    before = dynamodb.scan(TableName=BALANCES)["Items"]
    claims = {CLAIM: path["accountId"]} if cognito else None
    answer = call(dynamodb, method, path, body, claims=claims, grants=EVERY_GRANT if cognito else None, stage=stage)
    assert (answer.status, answer.body.get("field")) == (status, field), answer.body
    if status >= 400:
        assert items(dynamodb) == [] and dynamodb.scan(TableName=BALANCES)["Items"] == before, "nothing is written"
