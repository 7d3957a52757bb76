"""What a first apply into an AWS account settles, and no local test can: each check is one verdict.

Locally (make test) every check runs against the local account and passes; where the local account cannot
say what AWS does (it writes no access log), the check says so instead of passing. In an AWS account
(make verify-aws) they are the acceptance of the stack as deployed.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from harness.probes import eventually
from tests.first_apply.conftest import TARGET, FirstApply, user_pool

# A real account's deliveries take their time: poll each second, for three minutes unless a check says.
polled = partial(eventually, timeout=180, interval=1.0)

CREDIT = {"type": "credit", "amount": "500.00", "currency": "EUR"}
EVENTS = json.dumps({"source": ["cqrs-ledger"], "detail-type": ["Balance Changed"]})


@pytest.fixture(scope="module")
def funded(first_apply: FirstApply) -> str:
    """The user's account, credited 500.00 EUR through the API (the guard counts it)."""
    answer = first_apply.api().post_transaction(first_apply.account, {"transactionId": "funds", **CREDIT})
    assert answer.status == 201, answer.text
    return first_apply.account


@pytest.fixture(scope="module")
def fifo_consumer(first_apply: FirstApply) -> Iterator[str]:
    """A FIFO queue encrypted with the stack's key, subscribed by a rule to the balance events; its URL."""
    sqs, events = first_apply.client("sqs"), first_apply.client("events")
    bus = first_apply.outputs["events"]["bus"]["name"]
    name = f"{bus}-verify"
    rule = events.put_rule(
        Name=name,
        EventBusName=bus,
        EventPattern=EVENTS,
    )["RuleArn"]
    queue = f"{bus.rsplit('-ledger-events', 1)[0]}-verify.fifo"
    url = sqs.create_queue(
        QueueName=queue,
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true", "KmsMasterKeyId": first_apply.key_arn},
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    events.put_targets(
        Rule=name,
        EventBusName=bus,
        Targets=[{"Id": "fifo", "Arn": arn, "SqsParameters": {"MessageGroupId": "balances"}}],
    )
    try:
        yield url
    finally:
        events.remove_targets(Rule=name, EventBusName=bus, Ids=["fifo"])
        events.delete_rule(Name=name, EventBusName=bus)
        sqs.delete_queue(QueueUrl=url)


def received_for(first_apply: FirstApply, url: str, account: str, revision_above: int = 0) -> dict[str, Any] | None:
    """The detail of a balance event for ``account`` received on the queue, if one has come."""
    sqs = first_apply.client("sqs")
    for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        detail = json.loads(message["Body"])["detail"]
        if detail["accountId"] == account and int(detail["revision"]) > revision_above:
            return dict(detail)
    return None


def test_request_overrides_reach_the_response_templates(first_apply: FirstApply, funded: str) -> None:
    """The 201's ids come from $context.requestOverride, set by the request template (neither UpdateItem nor
    TransactWriteItems returns the item)."""
    api = first_apply.api()
    answer = api.post_transaction(funded, {"transactionId": "ovr-1", **CREDIT})
    assert (answer.status, answer.body) == (201, {"accountId": funded, "transactionId": "ovr-1"}), answer.text
    payee = f"{funded}-payee"
    moved = api.post_transfer(
        funded, {"transferId": "ovr-2", "toAccountId": payee, "amount": "1.00", "currency": "EUR"}
    )
    assert (moved.status, moved.body) == (201, {"transferId": "ovr-2", "fromAccountId": funded, "toAccountId": payee})


def test_parse_json_numbers_compare_dates_with_the_request_time(first_apply: FirstApply, funded: str) -> None:
    """occurredAt is checked with $util.parseJson numbers against $context.requestTimeEpoch: four minutes
    ahead is taken, six refused (the limit is five; a minute either way for clocks), leap days honoured."""
    api, now = first_apply.api(), datetime.now(UTC)
    cases = {
        (now + timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ"): 201,
        (now + timedelta(minutes=6)).strftime("%Y-%m-%dT%H:%M:%SZ"): 400,
        "0001-01-01T00:00:00Z": 201,
        "2024-02-29T12:00:00.123456Z": 201,
        "2023-02-29T12:00:00Z": 400,
    }
    for n, (at, status) in enumerate(cases.items()):
        answer = api.post_transaction(
            funded, {"transactionId": f"date-{n}", **CREDIT, "amount": "0.01", "occurredAt": at}
        )
        assert answer.status == status, f"{at}: {answer.text}"
        if status == 400:
            assert answer.body["field"] == "occurredAt"


def test_an_unused_placeholder_inside_transact_items_names_the_field(first_apply: FirstApply, funded: str) -> None:
    """A refused value renders a TransactWriteItems whose item names #invalid_<field>: DynamoDB's
    ValidationException names it, and the 400 does too (a guarded transaction, and a transfer)."""
    api = first_apply.api()
    bad = api.post_transaction(funded, {"transactionId": "bad-1", **CREDIT, "amount": "1.001"})
    assert (bad.status, bad.body["field"]) == (400, "amount"), bad.text
    transfer = {"transferId": "bad-2", "toAccountId": "someone", "amount": "abc", "currency": "EUR"}
    refused = api.post_transfer(funded, transfer)
    assert (refused.status, refused.body["field"]) == (400, "amount"), refused.text


def test_a_refused_debit_returns_its_item_within_the_attributes_condition(first_apply: FirstApply, funded: str) -> None:
    """The API role's dynamodb:Attributes condition lets a guarded debit's ALL_OLD through: 422, not 500."""
    body = {"transactionId": "past-floor", "type": "debit", "amount": "999999.00", "currency": "EUR"}
    answer = first_apply.api().post_transaction(funded, body)
    assert (answer.status, answer.body["error"]) == (422, "insufficient_funds"), answer.text


def test_an_overdraft_limit_is_set_by_its_own_update_outside_any_transaction(
    first_apply: FirstApply, funded: str
) -> None:
    """PUT .../limits is one UpdateItem with no enclosing operation: the role's statement for it (the
    dynamodb:EnclosingOperation key absent, Null) lets it through, and the limit counts for the next debit."""
    api = first_apply.api()
    limit = api.put_limits(funded, {"currency": "EUR", "overdraftLimit": "1000000.00"})
    assert (limit.status, limit.body["overdraftLimit"]) == (200, "1000000.00"), limit.text
    body = {"transactionId": "within-limit", "type": "debit", "amount": "999999.00", "currency": "EUR"}
    assert api.post_transaction(funded, body).status == 201
    assert api.put_limits(funded, {"currency": "EUR", "overdraftLimit": "0.00"}).status == 200


def test_a_content_type_with_a_charset_is_taken(first_apply: FirstApply, funded: str) -> None:
    body = json.dumps({"transactionId": "charset", **CREDIT, "amount": "0.01"})
    headers = {"Content-Type": "application/json; charset=utf-8"}
    answer = first_apply.api().request("POST", f"/accounts/{funded}/transactions", body, headers)
    assert answer.status == 201, answer.text


def test_the_stream_function_reads_the_details_stream(first_apply: FirstApply, funded: str) -> None:
    """Its role lists the stream with dynamodb:ListStreams scoped to the table's streams: the summary is made."""

    def summed() -> bool:
        answer = first_apply.api().summary(funded)
        return answer.status == 200 and Decimal(answer.body["balances"][0]["credits"]) >= Decimal("500.00")

    polled(summed)


def test_the_closer_runs_with_its_role_and_key_and_its_schedule_is_enabled(
    first_apply: FirstApply, funded: str
) -> None:
    """The closer reads the details index, scans the summaries' keys and reads the history table with its role
    (and the stack's key); its schedule targets it. What no run here settles: the scheduler assuming its
    role at the schedule's time (the trust policy's aws:SourceArn), which the closer's DLQ and the
    function's invocation metrics show within the hour after an apply."""
    history = first_apply.outputs["history"]
    schedule = first_apply.client("scheduler").get_schedule(Name=history["schedule"]["name"])
    assert (schedule["State"], schedule["Target"]["Arn"]) == ("ENABLED", history["closer"]["arn"])
    answer = first_apply.client("lambda").invoke(
        FunctionName=history["closer"]["name"], Payload=b'{"source": "verify"}'
    )
    result = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, result
    assert (result["refused"], result["failed"]) == (0, 0), result


def test_the_scheduler_assumes_the_closers_role_and_a_refused_run_reaches_the_closers_dlq(
    first_apply: FirstApply, funded: str
) -> None:
    """EventBridge Scheduler assumes the closer's schedule role (its trust policy names the schedule group
    as aws:SourceArn) and invokes the closer at a schedule's time; a run the closer refuses reaches the
    closer's DLQ as Lambda's on-failure record, sent with the function's role and the stack's key. A
    one-time schedule in the closer schedule's group, with its role, target and DLQ, makes that run a
    minute from now, with an input the closer refuses (a ``through`` date) and a mark to find it by."""
    history = first_apply.outputs["history"]
    scheduler, sqs = first_apply.client("scheduler"), first_apply.client("sqs")
    closer = scheduler.get_schedule(Name=history["schedule"]["name"])
    mark = f"verify-{uuid.uuid4().hex[:8]}"
    when = datetime.fromtimestamp(first_apply.now() + 90, UTC).replace(microsecond=0)
    scheduler.create_schedule(
        Name=mark,
        GroupName=closer["GroupName"],
        ScheduleExpression=f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={**closer["Target"], "Input": json.dumps({"source": mark, "through": "2026-01-01"})},
    )
    first_apply.reach(when.timestamp() + 60)

    def parked() -> dict[str, Any] | None:
        answer = sqs.receive_message(QueueUrl=history["closer_dlq_url"], MaxNumberOfMessages=10, WaitTimeSeconds=1)
        records = [json.loads(m["Body"]) for m in answer.get("Messages", [])]
        return next((r for r in records if r.get("requestPayload", {}).get("source") == mark), None)

    try:
        record = partial(eventually, timeout=300, interval=1.0)(parked)
    finally:  # deleted after its run; this one is for a run that never came
        with contextlib.suppress(scheduler.exceptions.ResourceNotFoundException):
            scheduler.delete_schedule(Name=mark, GroupName=closer["GroupName"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorType"] == "CloserInputRefused"


def test_balance_events_reach_an_encrypted_fifo_queue(first_apply: FirstApply, funded: str, fifo_consumer: str) -> None:
    """The Pipe lists and reads the summary stream, and EventBridge delivers to a FIFO queue encrypted with the
    stack's key (the key policy's statement for queues)."""
    api = first_apply.api()
    assert api.post_transaction(funded, {"transactionId": "event-1", **CREDIT, "amount": "0.02"}).status == 201
    detail = polled(lambda: received_for(first_apply, fifo_consumer, funded))
    assert detail["deployment"] == first_apply.outputs["events"]["deployment"]


def test_the_access_log_records_the_status_the_error_template_set(first_apply: FirstApply, funded: str) -> None:
    """The refused-writes metric counts $context.status from the access log: after the error template's
    override, a refused debit is logged 422, not the integration's 400."""
    if TARGET == "local":
        pytest.skip("the local account writes no access log")
    if not first_apply.access_log:
        pytest.skip("the account names no API Gateway CloudWatch role (CQRS_VERIFY_LOGGING_ROLE=create makes one)")
    body = {"transactionId": "logged", "type": "debit", "amount": "999999.00", "currency": "EUR"}
    answer = first_apply.api().post_transaction(funded, body)
    assert answer.status == 422
    request_id = answer.headers.get("x-amzn-RequestId") or answer.headers.get("x-amzn-requestid")
    logs, group = first_apply.client("logs"), first_apply.outputs["api_access_log"]["group"]

    def logged() -> dict[str, Any] | None:
        events = logs.filter_log_events(logGroupName=group, filterPattern=f'{{ $.requestId = "{request_id}" }}')
        found = [json.loads(e["message"]) for e in events.get("events", [])]
        return found[0] if found else None

    assert polled(logged, timeout=300, interval=5)["status"] == "422"


def test_a_pipe_is_updated_in_place(first_apply: FirstApply, funded: str, fifo_consumer: str) -> None:
    """A change of the Pipe's source settings updates it (no new Pipe reading the stream from its start)."""
    pipes = first_apply.client("pipes")
    name = first_apply.outputs["events"]["pipe_name"]
    before = pipes.describe_pipe(Name=name)
    stack = first_apply.stack
    stack.variables["events"] = {"batch_size": 5}
    first_apply.outputs.update(stack.apply(2))
    after = pipes.describe_pipe(Name=name)
    assert after["CreationTime"] == before["CreationTime"], "updated, not replaced"
    assert after["SourceParameters"]["DynamoDBStreamParameters"]["BatchSize"] == 5
    summary = first_apply.outputs["summary_table"]["name"]
    key = {"accountId": {"S": funded}, "currency": {"S": "EUR"}}
    revision = int(first_apply.client("dynamodb").get_item(TableName=summary, Key=key)["Item"]["revision"]["N"])
    assert (
        first_apply.api().post_transaction(funded, {"transactionId": "event-2", **CREDIT, "amount": "0.03"}).status
        == 201
    )
    assert polled(lambda: received_for(first_apply, fifo_consumer, funded, revision)), "it still delivers"


def test_a_user_pool_added_reaches_the_api_without_a_manual_deployment(first_apply: FirstApply, funded: str) -> None:
    """cognito_user_pool_arns changed: the authorizer is updated in place, and a token of the new pool is
    taken at once, with no deployment made by hand."""
    cognito = first_apply.client("cognito-idp")
    prefix = first_apply.stack.variables["name_prefix"]
    pool, client_id, arn = user_pool(cognito, f"{prefix}-more-{uuid.uuid4().hex[:4]}", funded)
    try:
        newcomer = first_apply.api(first_apply.token(pool, client_id))
        assert newcomer.summary(funded).status == 401, "not yet one of the stack's pools"
        stack = first_apply.stack
        stack.variables["api"] = {
            **stack.variables["api"],
            "cognito_user_pool_arns": [*stack.variables["api"]["cognito_user_pool_arns"], arn],
        }
        first_apply.outputs.update(stack.apply(2))
        assert polled(lambda: newcomer.summary(funded).status == 200, timeout=120), "the new pool's token is taken"
    finally:
        stack = first_apply.stack
        stack.variables["api"] = {
            **stack.variables["api"],
            "cognito_user_pool_arns": [a for a in stack.variables["api"]["cognito_user_pool_arns"] if a != arn],
        }
        first_apply.outputs.update(stack.apply(2))
        cognito.delete_user_pool(UserPoolId=pool)


def test_the_scheduled_sweeper_releases_an_expired_hold_with_its_role_and_key(
    first_apply: FirstApply, funded: str
) -> None:
    """The sweeper's schedule runs it with the schedule's role; the sweeper reads the holds table's sparse
    index and releases an expired hold in one transaction of three tables, with its own role (each item
    allowed only inside a TransactWriteItems) and the stack's key."""
    api, hold_id = first_apply.api(), f"verify-{uuid.uuid4().hex[:8]}"
    # The limit's check left the account far below zero: funds for the hold first.
    assert (
        api.post_transaction(funded, {"transactionId": f"{hold_id}-funds", **CREDIT, "amount": "1000000.00"}).status
        == 201
    )
    body = {"holdId": hold_id, "amount": "5.00", "currency": "EUR", "expiresInSeconds": 1}
    made = api.post_hold(funded, body)
    assert made.status == 201, made.text
    first_apply.reach(first_apply.now() + 90)  # past the expiry and a schedule time (each minute)

    def released() -> dict[str, Any] | None:
        hold = api.hold(funded, hold_id).body
        return hold if hold.get("status") == "expired" and hold.get("remaining") == "0.00" else None

    polled(released)
    balances = api.balances(funded, "EUR")
    assert balances.status == 200 and balances.body["balances"][0]["held"] == "0.00", balances.text
