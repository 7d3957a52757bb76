"""The emulator's corrections of moto, checked against its server."""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from decimal import Decimal
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.awslambda import models as moto_lambda

from sandbox import emulator, faults, metering
from sandbox.patches import features, fidelity
from tests.support.aws import client_of, streamed_table


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Any]]:
    server, url = emulator.start()
    make = client_of(url)
    dynamodb = make("dynamodb")
    for name, key in (("e-account-summary", "accountId"), ("e-applied", "id")):
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    yield {"dynamodb": dynamodb, "sqs": make("sqs"), "lambda": make("lambda"), "iam": make("iam")}
    server.stop()


def streams_of(dynamodb: Any) -> Any:
    """A DynamoDB Streams client of the same emulator."""
    return boto3.client(
        "dynamodbstreams",
        endpoint_url=dynamodb.meta.endpoint_url,
        region_name="eu-west-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def apply(dynamodb: Any, account: str, markers: list[str]) -> None:
    items: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": "e-account-summary",
                "Key": {"accountId": {"S": account}},
                "UpdateExpression": "ADD c :c",
                "ExpressionAttributeValues": {":c": {"N": "1"}},
            }
        }
    ]
    items += [
        {"Put": {"TableName": "e-applied", "Item": {"id": {"S": m}}, "ConditionExpression": "attribute_not_exists(id)"}}
        for m in markers
    ]
    dynamodb.transact_write_items(TransactItems=items)


def test_a_cancelled_transaction_on_a_streamed_table_emits_nothing_and_the_stream_goes_on(
    clients: dict[str, Any],
) -> None:
    # AWS: a cancelled TransactWriteItems writes nothing, so its stream has no record of it, and the
    # stream (and every iterator on it) carries on. https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
    dynamodb = clients["dynamodb"]
    arn = dynamodb.create_table(
        TableName="e-streamed",
        KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}, {"AttributeName": "t", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "a", "AttributeType": "S"},
            {"AttributeName": "t", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    streams = streams_of(dynamodb)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]

    def leg(account: str) -> dict[str, Any]:
        key = {"a": {"S": account}, "t": {"S": "x1"}}
        return {"Put": {"TableName": "e-streamed", "Item": key, "ConditionExpression": "attribute_not_exists(t)"}}

    dynamodb.put_item(TableName="e-streamed", Item={"a": {"S": "bob"}, "t": {"S": "x1"}})
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[leg("alice"), leg("bob")])  # bob's leg exists
    dynamodb.put_item(TableName="e-streamed", Item={"a": {"S": "carol"}, "t": {"S": "t1"}})
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["a"]["S"] for r in records] == ["bob", "carol"]
    assert "Item" not in dynamodb.get_item(TableName="e-streamed", Key={"a": {"S": "alice"}, "t": {"S": "x1"}})


def test_the_empty_fault_answers_empty_pages_that_lead_on_to_every_record(clients: dict[str, Any]) -> None:
    dynamodb = clients["dynamodb"]
    arn = streamed_table(dynamodb, "e-paged", "a")
    for name in ("a1", "a2", "a3"):
        dynamodb.put_item(TableName="e-paged", Item={"a": {"S": name}})
    streams = streams_of(dynamodb)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    pages: list[int] = []
    seen: list[str] = []
    with mock.patch.object(faults, "ACTIVE", faults.Faults.parse("empty=0.6,seed=4")):
        next_iterator = iterator["ShardIterator"]
        while len(seen) < 3 and len(pages) < 50:
            page = streams.get_records(ShardIterator=next_iterator, Limit=1)
            pages.append(len(page["Records"]))
            seen += [r["dynamodb"]["Keys"]["a"]["S"] for r in page["Records"]]
            next_iterator = page["NextShardIterator"]
    assert seen == ["a1", "a2", "a3"]
    assert 0 in pages, "some pages were empty"


def test_a_cancelled_transaction_leaves_nothing_behind(clients: dict[str, Any]) -> None:
    dynamodb = clients["dynamodb"]
    apply(dynamodb, "acc", ["m1"])
    with pytest.raises(ClientError) as raised:
        apply(dynamodb, "acc", ["m2", "m1", "m3"])
    reasons = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "ConditionalCheckFailed", "None"]
    assert dynamodb.get_item(TableName="e-account-summary", Key={"accountId": {"S": "acc"}})["Item"]["c"] == {"N": "1"}
    ids = {i["id"]["S"] for i in dynamodb.scan(TableName="e-applied")["Items"]}
    assert ids == {"m1"}, "the markers of the cancelled transaction were rolled back"
    apply(dynamodb, "acc", ["m2", "m3"])
    assert dynamodb.get_item(TableName="e-account-summary", Key={"accountId": {"S": "acc"}})["Item"]["c"] == {"N": "2"}


def test_a_throttled_transaction_is_cancelled_with_the_reason_and_writes_nothing(clients: dict[str, Any]) -> None:
    dynamodb = clients["dynamodb"]
    previous, faults.ACTIVE = faults.ACTIVE, faults.Faults(throttle_wcu=1)
    try:
        with pytest.raises(ClientError) as raised:
            apply(dynamodb, "throttled", ["t1"])
    finally:
        faults.ACTIVE = previous
    assert [r["Code"] for r in raised.value.response["CancellationReasons"]] == [
        "ProvisionedThroughputExceeded",
        "None",
    ]
    assert "Item" not in dynamodb.get_item(TableName="e-account-summary", Key={"accountId": {"S": "throttled"}})
    assert {i["id"]["S"] for i in dynamodb.scan(TableName="e-applied")["Items"]} & {"t1"} == set()


def test_a_conflicting_transaction_is_cancelled_not_queued_and_writes_nothing(clients: dict[str, Any]) -> None:
    """DynamoDB rejects a transaction on an item another transaction holds (TransactionConflict)."""
    dynamodb = clients["dynamodb"]
    previous, faults.ACTIVE = faults.ACTIVE, faults.Faults.parse("conflicts=1,seed=3")
    try:
        with pytest.raises(ClientError) as raised:
            apply(dynamodb, "held", ["h1"])
        apply(dynamodb, "held", ["h2"])  # the conflict is over: the next transaction goes through
    finally:
        faults.ACTIVE, active = previous, faults.ACTIVE
    codes = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert sorted(codes) == ["None", "TransactionConflict"] and active.conflicts == 1
    assert {i["id"]["S"] for i in dynamodb.scan(TableName="e-applied")["Items"]} & {"h1", "h2"} == {"h2"}


def test_writes_that_overlap_a_transaction_on_its_items_conflict_rather_than_queue(clients: dict[str, Any]) -> None:
    """AWS cancels a transaction on an item another transaction in progress holds, and refuses a single write
    of such an item with TransactionConflictException; the emulator's write lock would have queued them."""
    dynamodb = clients["dynamodb"]
    with ThreadPoolExecutor(max_workers=1) as pool:
        with fidelity.WRITE_LOCK:  # the first transaction waits for the write lock: it is in progress
            first = pool.submit(apply, dynamodb, "overlap", ["o1"])
            deadline = time.monotonic() + 10
            while not len(fidelity.ITEMS_IN_FLIGHT) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(fidelity.ITEMS_IN_FLIGHT) == 2, "the first transaction holds its two items"
            with pytest.raises(ClientError) as cancelled:
                apply(dynamodb, "overlap", ["o2"])
            with pytest.raises(ClientError) as updated:
                dynamodb.update_item(
                    TableName="e-account-summary",
                    Key={"accountId": {"S": "overlap"}},
                    UpdateExpression="ADD c :c",
                    ExpressionAttributeValues={":c": {"N": "5"}},
                )
            with pytest.raises(ClientError) as put:
                dynamodb.put_item(TableName="e-applied", Item={"id": {"S": "o1"}, "other": {"S": "x"}})
        first.result(timeout=30)
    assert [r["Code"] for r in cancelled.value.response["CancellationReasons"]] == ["TransactionConflict", "None"]
    assert (
        updated.value.response["Error"]["Code"] == put.value.response["Error"]["Code"] == "TransactionConflictException"
    )
    assert dynamodb.get_item(TableName="e-account-summary", Key={"accountId": {"S": "overlap"}})["Item"]["c"] == {
        "N": "1"
    }
    assert {i["id"]["S"] for i in dynamodb.scan(TableName="e-applied")["Items"]} & {"o1", "o2"} == {"o1"}
    apply(dynamodb, "overlap", ["o3"])  # the first one ended: its items are free again
    assert len(fidelity.ITEMS_IN_FLIGHT) == 0


@pytest.mark.parametrize("call", ["describe_table", "delete_table"])
def test_a_missing_table_is_named_in_the_answer_as_dynamodb_names_it(clients: dict[str, Any], call: str) -> None:
    """The AWS provider treats a DeleteTable that finds no table as done only when the message names it."""
    with pytest.raises(ClientError) as raised:
        getattr(clients["dynamodb"], call)(TableName="e-gone")
    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ResourceNotFoundException",
        "Requested resource not found: Table: e-gone not found",
    )


def test_redrive_policy_is_compact_json_as_aws_returns_it(clients: dict[str, Any]) -> None:
    sqs = clients["sqs"]
    dlq = sqs.create_queue(QueueName="e-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5}, separators=(",", ":"))
    queue = sqs.create_queue(QueueName="e-src", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    assert (
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
        == policy
    )


def test_the_meter_counts_write_units_per_table_and_sqs_requests_that_carry_messages(
    clients: dict[str, Any],
) -> None:
    metering.METER.reset()
    apply(clients["dynamodb"], "metered", ["metered-1", "metered-2"])  # a transaction of three items: 2 units each
    clients["dynamodb"].put_item(TableName="e-applied", Item={"id": {"S": "metered-3"}})
    assert dict(metering.METER.write_units) == {"summary": 2, "applied": 5}
    sqs = clients["sqs"]
    url = sqs.create_queue(QueueName="metered")["QueueUrl"]
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []  # an empty receive is not counted
    sqs.send_message(QueueUrl=url, MessageBody="x")
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert dict(metering.METER.sqs_requests) == {"SendMessage": 1, "ReceiveMessage": 1, "DeleteMessage": 1}


def _cycle_seconds(sqs: Any, url: str, rounds: int = 5) -> float:
    """Best time of a receive of 10, their delete and a send of 10 more (the writer's mapping in a loop)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(10)])
        best = min(best, time.perf_counter() - started)
    return best


def _queue_of(sqs: Any, name: str, depth: int) -> str:
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    for _ in range(0, depth, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(10)])
    return url


def test_sqs_does_not_slow_down_as_the_queue_grows(clients: dict[str, Any]) -> None:
    """moto took 1.1 s per cycle at 2,000 messages and 3.5 s at 6,000 (15 ms at 10): 230x. AWS does not."""
    sqs = clients["sqs"]
    shallow, deep = _queue_of(sqs, "depth-10", 10), _queue_of(sqs, "depth-3000", 3000)
    ratio = _cycle_seconds(sqs, deep) / _cycle_seconds(sqs, shallow)
    assert ratio < 5, f"a cycle on 3,000 messages took {ratio:.1f}x one on 10"


def test_sqs_counts_deletes_and_retention_still_behave_as_documented(clients: dict[str, Any]) -> None:
    sqs = clients["sqs"]
    url = _queue_of(sqs, "depth-semantics", 20)
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"]) == ("10", "10")
    assert counts["ApproximateNumberOfMessagesDelayed"] == "1"
    handle = got[0]["ReceiptHandle"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)  # deleting again is not an error
    with pytest.raises(ClientError) as raised:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    assert raised.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "9"
    expiring = sqs.create_queue(QueueName="depth-retention", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=expiring, MessageBody="old")
    with mock.patch("time.time", return_value=time.time() + 61):
        assert sqs.receive_message(QueueUrl=expiring).get("Messages", []) == []


# --- DynamoDB's Number type (HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number) -------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("20.00", "20"),  # trailing zeroes are trimmed
        ("0.50", "0.5"),
        ("007", "7"),  # leading zeroes are trimmed
        ("-0.0", "0"),
        ("-12.340", "-12.34"),
        ("1E+2", "100"),  # an exponent: stored in positional notation (AWS does not document the form)
        ("1.5e-3", "0.0015"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),  # 38 digits
    ],
)
def test_numbers_are_stored_as_dynamodb_stores_them(clients: dict[str, Any], sent: str, stored: str) -> None:
    dynamodb = clients["dynamodb"]
    key = {"accountId": {"S": f"n-{sent}"}}
    dynamodb.put_item(TableName="e-account-summary", Item={**key, "n": {"N": sent}, "s": {"NS": [sent, "3"]}})
    item = dynamodb.get_item(TableName="e-account-summary", Key=key)["Item"]
    assert item["n"] == {"N": stored}
    assert sorted(item["s"]["NS"]) == sorted({stored, "3"})
    dynamodb.update_item(
        TableName="e-account-summary",
        Key=key,
        UpdateExpression="SET m = :a, t = n + :b",
        ExpressionAttributeValues={":a": {"N": sent}, ":b": {"N": "0.10"}},
    )
    item = dynamodb.get_item(TableName="e-account-summary", Key=key)["Item"]
    assert item["m"] == {"N": stored}
    assert item["t"] == {"N": str(format((Decimal(stored) + Decimal("0.1")).normalize(), "f"))} or len(stored) >= 38


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ("123456789012345678901234567890123456789", "38 significant digits"),
        ("1e126", "overflow"),
        ("-1e126", "overflow"),
        ("1e-131", "underflow"),
        ("NaN", "cannot be converted"),
        (" 1", "cannot be converted"),
        ("1_000", "cannot be converted"),
    ],
)
def test_a_number_dynamodb_cannot_hold_is_refused_and_nothing_is_written(
    clients: dict[str, Any], sent: str, message: str
) -> None:
    dynamodb = clients["dynamodb"]
    key = {"accountId": {"S": f"bad-{sent}"}}
    writes: list[Callable[[], Any]] = [
        lambda: dynamodb.put_item(TableName="e-account-summary", Item={**key, "n": {"N": sent}}),
        lambda: dynamodb.update_item(
            TableName="e-account-summary",
            Key=key,
            UpdateExpression="SET d = :d, n = :n",
            ExpressionAttributeValues={":d": {"S": "partial"}, ":n": {"N": sent}},
        ),
    ]
    for write in writes:
        with pytest.raises(ClientError, match=f"ValidationException.*{message}"):
            write()
    assert "Item" not in dynamodb.get_item(TableName="e-account-summary", Key=key)


def test_an_update_that_fails_part_way_writes_nothing(clients: dict[str, Any]) -> None:
    """Reviewed finding: an UpdateItem with an unpaired surrogate stored the attributes before it, answered
    500, and the stream never carried the partial row. DynamoDB's strings are UTF-8, which cannot hold one."""
    dynamodb = clients["dynamodb"]
    key = {"accountId": {"S": "surrogate"}}
    body = json.dumps(
        {
            "TableName": "e-account-summary",
            "Key": key,
            "UpdateExpression": "SET a = :a, d = :d",
            "ExpressionAttributeValues": {":a": {"N": "1"}, ":d": {"S": "x\ud800y"}},
        }
    )
    answer = requests_post(dynamodb.meta.endpoint_url, "UpdateItem", body)
    assert answer[0] == 400 and "ValidationException" in answer[1]
    assert "Item" not in dynamodb.get_item(TableName="e-account-summary", Key=key)


def requests_post(url: str, action: str, body: str) -> tuple[int, str]:
    """A raw DynamoDB JSON request over HTTP (boto3 cannot send an unpaired surrogate)."""
    request = urllib.request.Request(url, data=body.encode("ascii"), headers=emulator.dynamodb_headers(action))
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_an_update_whose_later_action_fails_writes_none_of_its_actions(clients: dict[str, Any]) -> None:
    """moto applied ``SET a`` and then failed on ``ADD`` to a string, leaving ``a`` written."""
    dynamodb = clients["dynamodb"]
    key = {"accountId": {"S": "half-done"}}
    dynamodb.put_item(TableName="e-account-summary", Item={**key, "c": {"S": "text"}})
    with pytest.raises(ClientError, match="ValidationException"):
        dynamodb.update_item(
            TableName="e-account-summary",
            Key=key,
            UpdateExpression="SET a = :a ADD c :one",
            ExpressionAttributeValues={":a": {"N": "1"}, ":one": {"N": "1"}},
        )
    assert dynamodb.get_item(TableName="e-account-summary", Key=key)["Item"] == {**key, "c": {"S": "text"}}


# --- moto's behaviours the local account replaces, each held here (sandbox.patches.PATCHES) ---------


def _iterator(streams: Any, arn: str) -> str:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator: str = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    return iterator


def _function(clients: dict[str, Any], name: str) -> None:
    """A Python function in moto's Lambda (its code never runs here: the local runtime runs deployed code)."""
    role = clients["iam"].create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("main.py", "def handler(event, context):\n    return event\n")
    clients["lambda"].create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="main.handler", Code={"ZipFile": code.getvalue()}
    )


def test_moto_itself_delivers_nothing_to_a_mapped_function(clients: dict[str, Any]) -> None:
    """moto hands stream records to a mapped function inside PutItem (and drops them without Docker); here the
    local account's own pollers (sandbox.esm) deliver, as Lambda's do, so moto must hand nothing over."""
    dynamodb = clients["dynamodb"]
    arn = streamed_table(dynamodb, "e-mapped")
    _function(clients, "e-mapped-reader")
    clients["lambda"].create_event_source_mapping(
        EventSourceArn=arn, FunctionName="e-mapped-reader", StartingPosition="TRIM_HORIZON"
    )
    with mock.patch.object(moto_lambda.LambdaBackend, "send_dynamodb_items") as handed:
        dynamodb.put_item(TableName="e-mapped", Item={"id": {"S": "a"}})
    assert handed.call_count == 0
    assert len(streams_of(dynamodb).get_records(ShardIterator=_iterator(streams_of(dynamodb), arn))["Records"]) == 1


def test_an_update_that_creates_an_item_streams_one_insert_with_the_whole_item(clients: dict[str, Any]) -> None:
    """AWS streams one INSERT with the new item for an UpdateItem that creates it (moto streamed the bare key
    first, as a second INSERT). https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html"""
    dynamodb = clients["dynamodb"]
    arn = streamed_table(dynamodb, "e-upserted")
    dynamodb.update_item(
        TableName="e-upserted",
        Key={"id": {"S": "a"}},
        UpdateExpression="SET c = :c",
        ExpressionAttributeValues={":c": {"N": "5"}},
    )
    streams = streams_of(dynamodb)
    records = streams.get_records(ShardIterator=_iterator(streams, arn))["Records"]
    assert [(r["eventName"], r["dynamodb"]["NewImage"]) for r in records] == [
        ("INSERT", {"id": {"S": "a"}, "c": {"N": "5"}})
    ]


def _waits_for_the_write_lock(call: Callable[[], Any]) -> None:
    """``call`` does not finish while a write holds the lock, and finishes once it is released."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        with fidelity.WRITE_LOCK:  # a write in progress
            pending = pool.submit(call)
            finished, _ = wait([pending], timeout=0.5)
            assert not finished, "it went ahead while a write was in progress"
        pending.result(timeout=30)


def test_a_write_waits_while_another_write_is_in_progress(clients: dict[str, Any]) -> None:
    """DynamoDB's writes are isolated; moto's threads wrote concurrently, and a cancelled transaction's restore
    could erase a write made meanwhile. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html"""
    dynamodb = clients["dynamodb"]
    _waits_for_the_write_lock(
        lambda: dynamodb.update_item(
            TableName="e-account-summary",
            Key={"accountId": {"S": "isolated"}},
            UpdateExpression="ADD c :c",
            ExpressionAttributeValues={":c": {"N": "1"}},
        )
    )
    item = dynamodb.get_item(TableName="e-account-summary", Key={"accountId": {"S": "isolated"}})["Item"]
    assert item["c"] == {"N": "1"}


def test_a_stream_read_waits_while_a_write_is_in_progress(clients: dict[str, Any]) -> None:
    """A reader sees a transaction's records whole or not at all, so GetRecords waits for a write under way."""
    dynamodb = clients["dynamodb"]
    arn = streamed_table(dynamodb, "e-read-whole")
    streams = streams_of(dynamodb)
    iterator = _iterator(streams, arn)
    _waits_for_the_write_lock(lambda: streams.get_records(ShardIterator=iterator))


def test_the_reorder_fault_delays_a_message_so_later_ones_overtake_it(clients: dict[str, Any]) -> None:
    sqs = clients["sqs"]
    url = sqs.create_queue(QueueName="e-reordered")["QueueUrl"]
    with mock.patch.object(faults, "ACTIVE", faults.Faults.parse("reorder=1,seed=5")):
        sqs.send_message(QueueUrl=url, MessageBody="first")
    sqs.send_message(QueueUrl=url, MessageBody="second")
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (counts["ApproximateNumberOfMessagesDelayed"], counts["ApproximateNumberOfMessages"]) == ("1", "1")
    (overtaking,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert overtaking["Body"] == "second"


def test_the_overtake_fault_delivers_a_rules_event_to_its_target_after_later_ones(clients: dict[str, Any]) -> None:
    # AWS: EventBridge retries a failed delivery to a rule's target with exponential backoff and jitter, for
    # up to 24 hours: the retried event reaches the target after later ones.
    # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html
    sqs = clients["sqs"]
    events = client_of(clients["sqs"].meta.endpoint_url)("events")
    url = sqs.create_queue(QueueName="e-overtaken")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.create_event_bus(Name="e-bus")
    events.put_rule(Name="e-all", EventBusName="e-bus", EventPattern=json.dumps({"source": ["e"]}))
    events.put_targets(Rule="e-all", EventBusName="e-bus", Targets=[{"Id": "q", "Arn": arn}])

    def put(n: int) -> None:
        entry = {"EventBusName": "e-bus", "Source": "e", "DetailType": "t", "Detail": json.dumps({"n": n})}
        assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0

    with mock.patch.object(faults, "ACTIVE", faults.Faults.parse("overtake=1,seed=3")) as late:
        put(1)
    put(2)
    put(3)
    assert late.overtaken == 1
    arrived: list[int] = []
    deadline = time.monotonic() + 10
    while len(arrived) < 3 and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        arrived += [json.loads(m["Body"])["detail"]["n"] for m in got]
    assert arrived == [2, 3, 1]


def test_lambda_invoke_runs_in_the_local_runtime(clients: dict[str, Any]) -> None:
    """moto runs Invoke in Docker, which this machine lacks; the local account routes it to its own runtime."""
    _function(clients, "e-invoked")
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


def test_an_sdks_retry_is_logged_with_its_attempt_and_answer(tmp_path: Any) -> None:
    """A create answered "already exists" on its second attempt shows in the log as that attempt; a first
    attempt answered 2xx writes nothing (emulator.with_retry_log)."""
    log = tmp_path / "retries.log"
    server, url = emulator.start(retry_log=log)
    try:
        body = json.dumps(
            {
                "TableName": "r-table",
                "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            }
        ).encode()
        statuses = []
        for attempt in (1, 2):
            headers = {**emulator.dynamodb_headers("CreateTable"), "amz-sdk-request": f"attempt={attempt}; max=3"}
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    statuses.append(answer.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
    finally:
        server.stop()
    assert statuses == [200, 400]
    (line,) = [line for line in log.read_text().splitlines() if " attempt " in line]  # (a busy server notes more)
    assert line.split()[1:6] == ["attempt", "2", "DynamoDB_20120810.CreateTable", "->", "400"], line


def test_the_retry_log_notes_each_new_deepest_queue_of_waiting_requests_once(tmp_path: Any) -> None:
    log = emulator.RetryLog(tmp_path / "retries.log")
    for depth in (1, 3, 2, 3, 5, 4):
        log.warning("Task queue depth is %d", depth)  # as waitress's task dispatcher calls it
    noted = [line.split()[1] for line in log.path.read_text().splitlines()]
    assert noted == ["1", "3", "5"]


def create_table_attempts(url: str, agent: str, invocation: str, attempts: int = 2) -> list[int]:
    """Send CreateTable ``attempts`` times as one SDK call would (one invocation id, attempts numbered)."""
    body = json.dumps(
        {
            "TableName": f"t-{invocation}",
            "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
    ).encode()
    statuses = []
    for attempt in range(1, attempts + 1):
        headers = {
            **emulator.dynamodb_headers("CreateTable"),
            "User-Agent": agent,
            "amz-sdk-invocation-id": invocation,
            "amz-sdk-request": f"attempt={attempt}; max=25",
        }
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=30) as a:
                statuses.append(a.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    return statuses


def test_terraforms_attempt_after_a_2xx_answer_gets_that_answer_again_and_nothing_else_does(tmp_path: Any) -> None:
    """A later attempt of a call already answered 2xx means the answer was lost (emulator.TerraformAnswers):
    the provider gets it again instead of "already exists"; any other client is answered as AWS would."""
    server, url = emulator.start(retry_log=tmp_path / "retries.log")
    try:
        terraform = create_table_attempts(url, "APN/1.0 HashiCorp/1.0 Terraform/1.11.4", "11111111-a")
        other = create_table_attempts(url, "Boto3/1.43.11", "22222222-b")
    finally:
        server.stop()
    assert (terraform, other) == ([200, 200], [200, 400])
    assert "replayed the 2xx answer of invocation 11111111-a" in (tmp_path / "retries.log").read_text()
