"""Every mapping template rendered with API Gateway's semantics and executed against DynamoDB (moto).

A request template is rendered from a method request, sent to DynamoDB as the integration
would send it, and the integration response (or error) is rendered by the response template
that the API module selects for that status.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sandbox.vtl import Request, escape_javascript, render
from tests.support.aws import DETAILS, SUMMARY, create_details_table, create_tables

TEMPLATES = Path(__file__).resolve().parents[2] / "modules" / "api" / "templates"
STAGE = {"detailsTable": DETAILS, "summaryTable": SUMMARY}
ACTIONS = {"create_transaction": "update_item", "get_summary": "get_item", "list_transactions": "query"}


def template(name: str) -> str:
    return (TEMPLATES / name).read_text()


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    request: dict[str, Any]


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb")
        create_tables(client)
        create_details_table(client)
        yield client


def call(  # noqa: PLR0917 - mirrors a method request's parts
    client: Any,
    method: str,
    path: dict[str, str],
    body: Any = None,
    query: dict[str, str] | None = None,
    request_id: str = "req-0001",
    epoch: int = 1_767_225_600_000,
) -> Answer:
    """Run one method as its integration does: request template, DynamoDB, response template."""
    request = Request(
        body=body if isinstance(body, str) else json.dumps(body) if body is not None else "",
        path=path,
        querystring=query or {},
        context={"requestId": request_id, "requestTimeEpoch": epoch},
        stage_variables=STAGE,
    )
    sent = json.loads(render(template(f"{method}.request.vtl"), request).body)
    try:
        result = getattr(client, ACTIONS[method])(**sent)
        result.pop("ResponseMetadata", None)
        status, name, backend = 200, f"{method}.response.vtl", json.dumps(result)
    except ClientError as error:
        details = error.response["Error"]
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        name = "dynamodb_error.response.vtl" if 400 <= status < 500 else "server_error.response.vtl"
        backend = json.dumps(
            {"__type": f"com.amazonaws.dynamodb.v20120810#{details['Code']}", "message": details["Message"]}
        )
    default = {"create_transaction": 201}.get(method, 200) if status == 200 else (400 if status < 500 else 500)
    rendered = render(template(name), request, integration_body=backend)
    return Answer(rendered.status or default, json.loads(rendered.body), rendered.headers, sent)


def items(client: Any) -> list[dict[str, Any]]:
    return client.scan(TableName=DETAILS)["Items"]


# --- the renderer itself is faithful to API Gateway --------------------------------------------


def test_escape_javascript_is_javas_as_api_gateway_documents_it() -> None:
    # The example from the commons-lang StringEscapeUtils.escapeJavaScript documentation.
    assert escape_javascript('He didn\'t say, "Stop!"') == 'He didn\\\'t say, \\"Stop!\\"'
    assert escape_javascript("a/b\\c\n\t\x01é😀") == "a\\/b\\\\c\\n\\t\\u0001\\u00E9\\uD83D\\uDE00"


def test_the_apostrophe_escape_is_not_json_so_templates_must_undo_it() -> None:
    request = Request(body=json.dumps({"d": "it's"}))
    raw = render("\"$util.escapeJavaScript($input.path('$.d'))\"", request).body
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


# --- POST /accounts/{accountId}/transactions ----------------------------------------------------


def test_a_minimal_transaction_is_created_with_the_request_id_and_time(dynamodb: Any) -> None:
    answer = call(dynamodb, "create_transaction", {"accountId": "acc-1"}, {"type": "credit", "amount": "12.50"})
    assert (answer.status, answer.body) == (201, {"accountId": "acc-1", "transactionId": "req-0001"})
    assert answer.request == {
        "TableName": DETAILS,
        "Key": {"accountId": {"S": "acc-1"}, "transactionId": {"S": "req-0001"}},
        "UpdateExpression": "SET #ty = :ty, #am = :am, #ra = :ra, #rq = :rq",
        "ConditionExpression": "attribute_not_exists(transactionId)",
        "ExpressionAttributeNames": {"#ty": "type", "#am": "amount", "#ra": "recordedAt", "#rq": "requestId"},
        "ExpressionAttributeValues": {
            ":ty": {"S": "credit"},
            ":am": {"N": "12.50"},
            ":ra": {"N": "1767225600000"},
            ":rq": {"S": "req-0001"},
        },
        "ReturnValues": "ALL_NEW",
    }


def test_every_optional_field_is_stored(dynamodb: Any) -> None:
    body = {
        "transactionId": "tx_9",
        "type": "debit",
        "amount": "0.05",
        "currency": "EUR",
        "description": "coffee",
        "occurredAt": "2026-01-02T03:04:05.123Z",
    }
    answer = call(dynamodb, "create_transaction", {"accountId": "A_b-9"}, body)
    assert (answer.status, answer.body) == (201, {"accountId": "A_b-9", "transactionId": "tx_9"})
    (item,) = items(dynamodb)
    assert item == {
        "accountId": {"S": "A_b-9"},
        "transactionId": {"S": "tx_9"},
        "type": {"S": "debit"},
        "amount": {"N": "0.05"},
        "currency": {"S": "EUR"},
        "description": {"S": "coffee"},
        "occurredAt": {"S": "2026-01-02T03:04:05.123Z"},
        "recordedAt": {"N": "1767225600000"},
        "requestId": {"S": "req-0001"},
    }


HOSTILE = [
    "it's",
    "\\'",
    "\\",
    'say "hi"',
    "back\\slash and \\\\double",
    "line\nbreak\r\nand\ttab",
    "unicode é ü 中文 😀",
    '"}, "balance": {"N": "1e9"}, "x": {"S": "',
    "'}, ':am': {'N': '999'}, '",
    "$input.path('$') #set($x = 1) ${x}",
    "\u0000\u001f control",
    "</script>/",
    " ",
]


@pytest.mark.parametrize("description", HOSTILE)
def test_hostile_descriptions_are_stored_verbatim_and_change_nothing_else(dynamodb: Any, description: str) -> None:
    body = {"transactionId": "t1", "type": "credit", "amount": "1", "description": description}
    answer = call(dynamodb, "create_transaction", {"accountId": "acc-1"}, body)
    assert answer.status == 201
    (item,) = items(dynamodb)
    assert item["description"] == {"S": description}
    assert item["amount"] == {"N": "1"} and item["type"] == {"S": "credit"}
    assert set(item) == {"accountId", "transactionId", "type", "amount", "description", "recordedAt", "requestId"}


BAD_BODIES = [
    ({"accountId": "a b"}, {"type": "credit", "amount": "1"}, "accountId"),
    ({"accountId": "x" * 65}, {"type": "credit", "amount": "1"}, "accountId"),
    ({"accountId": 'acc"}'}, {"type": "credit", "amount": "1"}, "accountId"),
    ({"accountId": ""}, {"type": "credit", "amount": "1"}, "accountId"),
    ({"accountId": "acc"}, {"type": "refund", "amount": "1"}, "type"),
    ({"accountId": "acc"}, {"type": None, "amount": "1"}, "type"),
    ({"accountId": "acc"}, {"type": "credit", "amount": "abc"}, "amount"),
    ({"accountId": "acc"}, {"type": "credit", "amount": 5}, "amount"),
    ({"accountId": "acc"}, {"type": "credit", "amount": "0"}, "amount"),
    ({"accountId": "acc"}, {"type": "credit", "amount": "0.00"}, "amount"),
    ({"accountId": "acc"}, {"type": "credit", "amount": "-1"}, "amount"),
    ({"accountId": "acc"}, {"type": "credit", "amount": "1.001"}, "amount"),
    ({"accountId": "acc"}, {"type": "credit", "amount": "1e3"}, "amount"),
    ({"accountId": "acc"}, {"type": "credit", "amount": "1000000000000000"}, "amount"),
    ({"accountId": "acc"}, {"type": "credit", "amount": "01"}, "amount"),
    ({"accountId": "acc"}, {"type": "credit", "amount": "1", "transactionId": "a/b"}, "transactionId"),
    ({"accountId": "acc"}, {"type": "credit", "amount": "1", "transactionId": ""}, "transactionId"),
    ({"accountId": "acc"}, {"type": "credit", "amount": "1", "transactionId": 7}, "transactionId"),
    ({"accountId": "acc"}, {"type": "credit", "amount": "1", "currency": "eur"}, "currency"),
    ({"accountId": "acc"}, {"type": "credit", "amount": "1", "description": "x" * 257}, "description"),
    ({"accountId": "acc"}, {"type": "credit", "amount": "1", "description": ["x"]}, "description"),
    ({"accountId": "acc"}, {"type": "credit", "amount": "1", "occurredAt": "yesterday"}, "occurredAt"),
]


@pytest.mark.parametrize(("path", "body", "field"), BAD_BODIES)
def test_bad_values_get_400_naming_the_field_and_nothing_is_written(
    dynamodb: Any, path: dict[str, str], body: Any, field: str
) -> None:
    answer = call(dynamodb, "create_transaction", path, body)
    assert answer.status == 400
    assert answer.body["field"] == field and answer.body["error"] == "invalid_request"
    assert items(dynamodb) == []


def test_the_largest_amount_and_description_are_accepted(dynamodb: Any) -> None:
    for i, amount in enumerate(["999999999999999", "9999999999999.99", "0.01", "0.1", "10.0"]):
        body = {"transactionId": f"t{i}", "type": "credit", "amount": amount, "description": "é" * 256}
        assert call(dynamodb, "create_transaction", {"accountId": "acc"}, body).status == 201
    assert sorted(i["amount"]["N"] for i in items(dynamodb)) == sorted(
        ["999999999999999", "9999999999999.99", "0.01", "0.1", "10.0"]
    )


def test_a_repeated_transaction_id_gets_409_and_writes_nothing(dynamodb: Any) -> None:
    body = {"transactionId": "dup", "type": "credit", "amount": "1"}
    assert call(dynamodb, "create_transaction", {"accountId": "acc"}, body).status == 201
    again = call(dynamodb, "create_transaction", {"accountId": "acc"}, {**body, "amount": "2"}, request_id="req-0002")
    assert again.status == 409
    assert again.body == {"error": "conflict", "message": again.body["message"], "field": "transactionId"}
    (item,) = items(dynamodb)
    assert item["amount"] == {"N": "1"} and item["requestId"] == {"S": "req-0001"}


def error_answer(code: str, message: str, status: int) -> Answer:
    request = Request(path={"accountId": "acc"}, stage_variables=STAGE)
    name = "dynamodb_error.response.vtl" if status < 500 else "server_error.response.vtl"
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message})
    rendered = render(template(name), request, integration_body=body)
    return Answer(rendered.status or (400 if status < 500 else 500), json.loads(rendered.body), rendered.headers, {})


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]
)
def test_throttling_is_429_with_retry_after(code: str) -> None:
    answer = error_answer(code, "slow down", 400)
    assert answer.status == 429 and answer.headers == {"Retry-After": "1"}
    assert answer.body["error"] == "throttled"


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ResourceNotFoundException", 400, 500),
        ("AccessDeniedException", 400, 500),
        ("InternalServerError", 500, 500),
        ("ValidationException", 400, 400),
    ],
)
def test_other_failures_are_never_2xx(code: str, status: int, expected: int) -> None:
    answer = error_answer(code, "it's broken", status)
    assert answer.status == expected
    assert answer.body["error"] in ("internal", "invalid_request")


# --- GET /accounts/{accountId}/summary ----------------------------------------------------------


def test_a_missing_summary_is_404(dynamodb: Any) -> None:
    answer = call(dynamodb, "get_summary", {"accountId": "nobody"})
    assert answer.status == 404 and answer.body["error"] == "not_found"


def test_a_summary_is_clean_json_with_decimal_strings(dynamodb: Any) -> None:
    dynamodb.put_item(
        TableName=SUMMARY,
        Item={
            "accountId": {"S": "acc"},
            "balance": {"N": "-7.5"},
            "credits": {"N": "12.5"},
            "debits": {"N": "20"},
            "transactionCount": {"N": "3"},
            "lastTransactionAt": {"S": "2026-01-02T03:04:05.000000Z"},
            "internal": {"S": "not shown"},
        },
    )
    answer = call(dynamodb, "get_summary", {"accountId": "acc"})
    assert (answer.status, answer.body) == (
        200,
        {
            "accountId": "acc",
            "balance": "-7.5",
            "credits": "12.5",
            "debits": "20",
            "transactionCount": 3,
            "lastTransactionAt": "2026-01-02T03:04:05.000000Z",
        },
    )


def test_a_bad_account_id_on_summary_is_400(dynamodb: Any) -> None:
    answer = call(dynamodb, "get_summary", {"accountId": "bad id"})
    assert answer.status == 400 and answer.body["field"] == "accountId"


# --- GET /accounts/{accountId}/transactions ------------------------------------------------------


def post(client: Any, account: str, n: int) -> None:
    for i in range(n):
        body = {"transactionId": f"t{i:02d}", "type": "credit", "amount": "1", "description": f"it's #{i}"}
        assert (
            call(client, "create_transaction", {"accountId": account}, body, epoch=1_767_225_600_000 + i).status == 201
        )


def test_listing_pages_newest_first_until_the_token_runs_out(dynamodb: Any) -> None:
    post(dynamodb, "acc", 7)
    post(dynamodb, "other", 2)
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        query = {"limit": "3", **({"nextToken": token} if token else {})}
        answer = call(dynamodb, "list_transactions", {"accountId": "acc"}, query=query)
        assert answer.status == 200 and answer.body["accountId"] == "acc"
        seen += [t["transactionId"] for t in answer.body["transactions"]]
        token = answer.body["nextToken"]
        pages += 1
        if token is None or pages > 5:
            break
    assert seen == [f"t{i:02d}" for i in range(6, -1, -1)]
    first = call(dynamodb, "list_transactions", {"accountId": "acc"}, query={"limit": "1"}).body["transactions"][0]
    assert first == {
        "transactionId": "t06",
        "type": "credit",
        "amount": "1",
        "currency": None,
        "description": "it's #6",
        "occurredAt": None,
        "recordedAt": 1767225600006,
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"nextToken": "!!!"}, "nextToken"),
        ({"nextToken": "abc"}, "nextToken"),
        ({"nextToken": base64.urlsafe_b64encode(b"x|t1").decode()}, "nextToken"),
        ({"nextToken": base64.urlsafe_b64encode(b'1|t"}').decode()}, "nextToken"),
    ],
)
def test_bad_paging_parameters_are_400_naming_them(dynamodb: Any, query: dict[str, str], field: str) -> None:
    answer = call(dynamodb, "list_transactions", {"accountId": "acc"}, query=query)
    assert answer.status == 400 and answer.body["field"] == field


def test_a_token_cannot_reach_another_account(dynamodb: Any) -> None:
    post(dynamodb, "acc", 3)
    post(dynamodb, "victim", 3)
    token = call(dynamodb, "list_transactions", {"accountId": "victim"}, query={"limit": "1"}).body["nextToken"]
    answer = call(dynamodb, "list_transactions", {"accountId": "acc"}, query={"nextToken": token})
    assert all(t["transactionId"].startswith("t") for t in answer.body.get("transactions", []))
    assert answer.request.get("ExclusiveStartKey", {}).get("accountId") == {"S": "acc"}


# --- gateway responses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ('[object has missing required properties (["amount"])]', "amount"),
        ('[object instance has properties which are not allowed by the schema: ["colour"]]', "colour"),
        ('[instance type (array) does not match any allowed primitive type (allowed: ["object"])]', "body"),
        ("Invalid request body", "body"),
    ],
)
def test_a_refused_body_names_the_field(message: str, field: str) -> None:
    request = Request(context={"error": {"validationErrorString": message}})
    body = json.loads(render(template("bad_request_body.gateway.vtl"), request).body)
    assert body["error"] == "invalid_body" and body["message"] == message
    assert body["field"] == field


def test_other_gateway_errors_are_json() -> None:
    request = Request(context={"error": {"responseType": "ACCESS_DENIED", "messageString": '"Forbidden"'}})
    assert json.loads(render(template("default.gateway.vtl"), request).body) == {
        "error": "ACCESS_DENIED",
        "message": "Forbidden",
        "field": None,
    }
