"""The fault patches (local_account/patches/fault_injection.py): the faults of the fault plan, injected into
moto, checked against the local account's server."""

from __future__ import annotations

import json
import time
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from local_account import fault_plan
from tests.local_account.conftest import apply, streams_of
from tests.support.aws import client_of, streamed_table


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
    with mock.patch.object(fault_plan, "ACTIVE", fault_plan.Faults.parse("empty=0.6,seed=4")):
        next_iterator = iterator["ShardIterator"]
        while len(seen) < 3 and len(pages) < 50:
            page = streams.get_records(ShardIterator=next_iterator, Limit=1)
            pages.append(len(page["Records"]))
            seen += [r["dynamodb"]["Keys"]["a"]["S"] for r in page["Records"]]
            next_iterator = page["NextShardIterator"]
    assert seen == ["a1", "a2", "a3"]
    assert 0 in pages, "some pages were empty"


def test_a_throttled_transaction_is_cancelled_with_the_reason_and_writes_nothing(clients: dict[str, Any]) -> None:
    dynamodb = clients["dynamodb"]
    previous, fault_plan.ACTIVE = fault_plan.ACTIVE, fault_plan.Faults(throttle_wcu=1)
    try:
        with pytest.raises(ClientError) as raised:
            apply(dynamodb, "throttled", ["t1"])
    finally:
        fault_plan.ACTIVE = previous
    assert [r["Code"] for r in raised.value.response["CancellationReasons"]] == [
        "ProvisionedThroughputExceeded",
        "None",
    ]
    assert "Item" not in dynamodb.get_item(TableName="e-account-summary", Key={"accountId": {"S": "throttled"}})
    assert {i["id"]["S"] for i in dynamodb.scan(TableName="e-applied")["Items"]} & {"t1"} == set()


def test_a_conflicting_transaction_is_cancelled_not_queued_and_writes_nothing(clients: dict[str, Any]) -> None:
    """DynamoDB rejects a transaction on an item another transaction holds (TransactionConflict)."""
    dynamodb = clients["dynamodb"]
    previous, fault_plan.ACTIVE = fault_plan.ACTIVE, fault_plan.Faults.parse("conflicts=1,seed=3")
    try:
        with pytest.raises(ClientError) as raised:
            apply(dynamodb, "held", ["h1"])
        apply(dynamodb, "held", ["h2"])  # the conflict is over: the next transaction goes through
    finally:
        fault_plan.ACTIVE, active = previous, fault_plan.ACTIVE
    codes = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert sorted(codes) == ["None", "TransactionConflict"] and active.conflicts == 1
    assert {i["id"]["S"] for i in dynamodb.scan(TableName="e-applied")["Items"]} & {"h1", "h2"} == {"h2"}


def test_the_reorder_fault_delays_a_message_so_later_ones_overtake_it(clients: dict[str, Any]) -> None:
    sqs = clients["sqs"]
    url = sqs.create_queue(QueueName="e-reordered")["QueueUrl"]
    with mock.patch.object(fault_plan, "ACTIVE", fault_plan.Faults.parse("reorder=1,seed=5")):
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

    with mock.patch.object(fault_plan, "ACTIVE", fault_plan.Faults.parse("overtake=1,seed=3")) as late:
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
