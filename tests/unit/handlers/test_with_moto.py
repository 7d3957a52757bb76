"""The Lambda handlers end to end under moto: real stream records, real tables and queues.

Each handler is made over dependencies built from the test's environment and clients (``make_handler``
over ``composition.build_stream`` or ``build_writer``, as a cold start builds them): a test changes a
setting, a client or the clock by building others, never by assigning to a module global.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from ledger_aggregator import composition
from ledger_aggregator.composition import Clients, StreamDeps, WaitClock, WriterDeps, build_stream, build_writer
from ledger_aggregator.config import ConfigurationError, StreamSettings, WriterSettings
from ledger_aggregator.domain import Key, Totals, fold
from ledger_aggregator.summary_item import summary_key
from tests.support.aws import APPLIED, DETAILS, SUMMARY, create_details_table, create_tables, summaries
from tests.support.fakes import FakeContext as Context

VISIBILITY = 300  # the buffer queue's visibility timeout in these tests


@dataclass
class Stack:
    dynamodb: Any
    sqs: Any
    stream_arn: str
    buffer_url: str
    dlq_url: str
    env: dict[str, str]  # the functions' environment variables, as Terraform sets them
    clients: Clients
    clock: WaitClock | None = None
    _iterator: str | None = None

    def stream_deps(self) -> StreamDeps:
        """The stream function's dependencies over this stack's environment, clients and clock (a cold start)."""
        return build_stream(StreamSettings.from_env(self.env), self.clients, self.clock)

    def writer_deps(self) -> WriterDeps:
        """The writer's dependencies over this stack's environment, clients and clock (a cold start)."""
        return build_writer(WriterSettings.from_env(self.env), self.clients, self.clock)

    def put(self, account: str, txid: str, kind: str, amount: str, **extra: dict[str, str]) -> None:
        item: dict[str, Any] = {
            "accountId": {"S": account},
            "transactionId": {"S": txid},
            "type": {"S": kind},
            "amount": {"N": amount},
            "currency": {"S": "EUR"},
            "occurredAt": {"S": "2026-02-01T12:00:00Z"},
        }
        item.update(extra)
        self.dynamodb.put_item(TableName=DETAILS, Item=item)

    def new_records(self) -> list[dict[str, Any]]:
        """The stream records written since the last call, shaped as Lambda delivers them."""
        streams = boto3.client("dynamodbstreams")
        if self._iterator is None:
            shard = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]
            self._iterator = streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        response = streams.get_records(ShardIterator=self._iterator)
        self._iterator = response["NextShardIterator"]
        return [lambda_shape(r, self.stream_arn) for r in response["Records"]]

    def expected(self) -> dict[Key, Totals]:
        rows = self.dynamodb.scan(TableName=DETAILS, ConsistentRead=True)["Items"]
        return {k: s.totals for k, s in fold(rows).items()}

    def receive(self, url: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
            got = got.get("Messages", [])
            if not got:
                return messages
            messages += got


def lambda_shape(record: Mapping[str, object], stream_arn: str) -> dict[str, Any]:
    shaped: dict[str, Any] = json.loads(json.dumps(record, default=lambda v: v.timestamp()))
    shaped["eventSourceARN"] = stream_arn
    return shaped


def sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes") or {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:buffer",
            }
            for m in messages
        ]
    }


@pytest.fixture
def stack() -> Iterator[Stack]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        sqs = boto3.client("sqs")
        create_tables(dynamodb)
        arn = create_details_table(dynamodb)
        buffer_url = sqs.create_queue(QueueName="buffer", Attributes={"VisibilityTimeout": str(VISIBILITY)})["QueueUrl"]
        dlq_url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        env = {
            "PATTERN": "1",
            "SUMMARY_TABLE": SUMMARY,
            "APPLIED_TABLE": APPLIED,
            "BUFFER_QUEUE_URL": buffer_url,
            "DLQ_URL": dlq_url,
        }
        clients = Clients(dynamodb, sqs, boto3.client("lambda"))
        yield Stack(dynamodb, sqs, arn, buffer_url, dlq_url, env, clients)


def queue_mode(stack: Stack) -> None:
    """Pattern 2: the stream function publishes to the buffer queue."""
    stack.env["PATTERN"] = "2"


def stream_handler(stack: Stack, records: list[dict[str, Any]], context: Any = None) -> dict[str, Any]:
    from ledger_aggregator.handlers import stream

    return stream.make_handler(stack.stream_deps())({"Records": records}, context or Context())


def writer_handler(stack: Stack, event: dict[str, Any]) -> dict[str, Any]:
    from ledger_aggregator.handlers import writer

    return writer.make_handler(stack.writer_deps())(event, Context())


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


class ThrottleAccount:
    """A DynamoDB client whose writes for one account are throttled while ``active``."""

    def __init__(self, client: Any, account: str, times: int | None = None) -> None:
        self._client = client
        self.account = account
        self.active = True
        self.times = times  # None: while active
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        key = kwargs["TransactItems"][0]["Update"]["Key"]["accountId"]["S"]
        if self.active and key == self.account and (self.times is None or self.refused < self.times):
            self.refused += 1
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "TransactWriteItems")
        return self._client.transact_write_items(**kwargs)


def test_pattern_1_projects_a_batch_into_exact_summaries_with_one_write_per_account(stack: Stack) -> None:
    for i in range(30):
        stack.put(f"acc-{i % 3}", f"t{i}", "credit" if i % 4 else "debit", f"{i}.25")
    response = stream_handler(stack, stack.new_records())
    assert response == {"batchItemFailures": []}
    assert summaries(stack.dynamodb) == stack.expected()
    balance = stack.dynamodb.get_item(TableName=SUMMARY, Key=summary_key("acc-1", "EUR"))["Item"]["balance"]["N"]
    assert Decimal(balance) == stack.expected()[("acc-1", "EUR")].balance


def test_a_batch_delivered_twice_counts_once(stack: Stack) -> None:
    for i in range(5):
        stack.put("acc-1", f"t{i}", "credit", "10.10")
    records = stack.new_records()
    assert failed_ids(stream_handler(stack, records)) == []
    assert failed_ids(stream_handler(stack, records)) == []
    assert summaries(stack.dynamodb) == {("acc-1", "EUR"): Totals(Decimal("50.50"), Decimal(0), 5)}


def test_modify_and_remove_are_reflected(stack: Stack) -> None:
    stack.put("acc-1", "t1", "credit", "100")
    stack.put("acc-1", "t2", "debit", "30")
    stack.put("acc-1", "t1", "credit", "120.50")  # a correction
    stack.dynamodb.delete_item(TableName=DETAILS, Key={"accountId": {"S": "acc-1"}, "transactionId": {"S": "t2"}})
    assert failed_ids(stream_handler(stack, stack.new_records())) == []
    assert summaries(stack.dynamodb) == {("acc-1", "EUR"): Totals(Decimal("120.50"), Decimal(0), 1)}


def test_poison_records_reach_the_dlq_with_their_reason_and_the_rest_is_applied(stack: Stack) -> None:
    stack.put("acc-1", "t1", "credit", "5")
    stack.dynamodb.put_item(
        TableName=DETAILS,
        Item={
            "accountId": {"S": "acc-1"},
            "transactionId": {"S": "bad"},
            "type": {"S": "credit"},
            "amount": {"S": "abc"},
            "currency": {"S": "EUR"},
        },
    )
    stack.put("acc-2", "t2", "refund", "7")
    stack.put("acc-2", "t3", "debit", "2")
    response = stream_handler(stack, stack.new_records())
    assert failed_ids(response) == []
    assert summaries(stack.dynamodb) == {
        ("acc-1", "EUR"): Totals(Decimal(5), Decimal(0), 1),
        ("acc-2", "EUR"): Totals(Decimal(0), Decimal(2), 1),
    }
    parked = [json.loads(m["Body"]) for m in stack.receive(stack.dlq_url)]
    assert sorted(p["reason"] for p in parked) == [
        "NewImage: amount is not of DynamoDB type N",
        "NewImage: type must be credit, debit, hold, capture or release",
    ]
    assert {p["record"]["dynamodb"]["Keys"]["transactionId"]["S"] for p in parked} == {"bad", "t2"}


@contextmanager
def clients_through(stack: Stack, **replacements: Any) -> Iterator[None]:
    """The handlers' calls to these services go through the given clients while the block runs."""
    original = stack.clients
    stack.clients = replace(original, **replacements)
    try:
        yield
    finally:
        stack.clients = original


def test_throttled_summary_writes_fail_their_records_and_a_retry_makes_them_exact(stack: Stack) -> None:
    throttled = ThrottleAccount(boto3.client("dynamodb"), "acc-2")
    with clients_through(stack, dynamodb=throttled):
        for i in range(9):
            stack.put(f"acc-{1 + i % 2}", f"t{i}", "credit", "1.01")
        records = stack.new_records()
        first = failed_ids(stream_handler(stack, records))
        acc2 = [r["dynamodb"]["SequenceNumber"] for r in records if r["dynamodb"]["Keys"]["accountId"]["S"] == "acc-2"]
        assert first == acc2
        throttled.active = False
        sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
        lowest = min(sequences.index(s) for s in first)
        assert failed_ids(stream_handler(stack, records[lowest:])) == []  # Lambda resumes from the lowest failure
    assert summaries(stack.dynamodb) == stack.expected()


def test_a_batch_throttled_whole_is_reported_whole_not_raised(stack: Stack) -> None:
    """Raising would be a function error, and the mapping would bisect the batch to single records."""
    throttled = ThrottleAccount(boto3.client("dynamodb"), "acc-2")
    with clients_through(stack, dynamodb=throttled):
        for i in range(3):
            stack.put("acc-2", f"t{i}", "credit", "1.01")
        records = stack.new_records()
        assert failed_ids(stream_handler(stack, records)) == [r["dynamodb"]["SequenceNumber"] for r in records]


class VirtualClock:
    """Time that passes only when the code under test sleeps: the budget does not depend on the machine's load."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.seconds

    def sleep(self, pause: float) -> None:
        self.slept.append(pause)
        self.seconds += pause


def test_a_throttled_write_is_waited_for_while_the_invocation_has_time(stack: Stack) -> None:
    """Reviewed finding: with the wall clock, a loaded machine ran the 1 s wait budget out before the retry."""
    clock = VirtualClock()
    stack.clock = WaitClock(clock.now, clock.sleep)
    throttled = ThrottleAccount(boto3.client("dynamodb"), "acc-1", times=2)
    with clients_through(stack, dynamodb=throttled):
        stack.put("acc-1", "t1", "credit", "3.00")
        assert failed_ids(stream_handler(stack, stack.new_records(), Context(millis_left=2000))) == []
        assert throttled.refused == 2
    assert len(clock.slept) == 2 and clock.seconds <= 1.0, "two waits, within half of the 2,000 ms left"
    assert summaries(stack.dynamodb) == stack.expected()


def test_a_throttled_write_is_not_waited_for_past_the_invocations_budget(stack: Stack) -> None:
    clock = VirtualClock()
    clock.sleep = lambda pause: setattr(clock, "seconds", clock.seconds + 0.6)  # type: ignore[method-assign]
    stack.clock = WaitClock(clock.now, clock.sleep)
    throttled = ThrottleAccount(boto3.client("dynamodb"), "acc-1", times=5)
    with clients_through(stack, dynamodb=throttled):
        stack.put("acc-1", "t1", "credit", "3.00")
        records = stack.new_records()
        failed = failed_ids(stream_handler(stack, records, Context(millis_left=2000)))
        assert failed == [records[0]["dynamodb"]["SequenceNumber"]], "reported for a retry, not waited past 1 s"
        # Each wait takes 0.6 s here: it waits at 0 s and at 0.6 s (a pause still ends within the 1 s budget),
        # and at 1.2 s it stops and reports the record instead of waiting past the budget.
        assert throttled.refused == 3 and clock.seconds == pytest.approx(1.2)


def test_pattern_2_goes_stream_to_queue_to_summary_and_all_ten_messages_of_a_batch_count(stack: Stack) -> None:
    queue_mode(stack)
    for i in range(10):
        stack.put(f"acc-{i}", f"t{i}", "credit", f"{i + 1}.00")
    assert failed_ids(stream_handler(stack, stack.new_records())) == []
    assert summaries(stack.dynamodb) == {}, "pattern 2's stream side must not write summaries"
    messages = stack.receive(stack.buffer_url)
    assert len(messages) == 10
    assert failed_ids(writer_handler(stack, sqs_event(messages))) == []
    assert summaries(stack.dynamodb) == stack.expected()
    assert failed_ids(writer_handler(stack, sqs_event(messages))) == []  # SQS redelivers: still exact
    assert summaries(stack.dynamodb) == stack.expected()


def test_an_undecodable_queue_message_is_parked_in_the_dlq_with_its_reason_and_not_retried(stack: Stack) -> None:
    queue_mode(stack)
    stack.put("acc-1", "t1", "debit", "3.30")
    stream_handler(stack, stack.new_records())
    body = '{"v": 2, "accountId": "acc-1", "currency": "EUR", "changes": "x"}'
    stack.sqs.send_message(QueueUrl=stack.buffer_url, MessageBody=body)
    messages = stack.receive(stack.buffer_url)
    bad = next(m["MessageId"] for m in messages if '"x"' in m["Body"])
    # parked: deleted from the buffer, not redelivered
    assert failed_ids(writer_handler(stack, sqs_event(messages))) == []
    assert summaries(stack.dynamodb) == {("acc-1", "EUR"): Totals(Decimal(0), Decimal("3.30"), 1)}
    parked = [json.loads(m["Body"]) for m in stack.receive(stack.dlq_url)]
    assert [(p["kind"], p["source"], p["recordId"], p["field"]) for p in parked] == [
        ("poison-record", "queue", bad, "changes")
    ]
    assert parked[0]["record"]["body"] == body


class RecordVisibility:
    """An SQS client that records every ChangeMessageVisibilityBatch entry it passes on."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.entries: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def change_message_visibility_batch(self, **kwargs: Any) -> Any:
        self.entries += kwargs["Entries"]
        return self._client.change_message_visibility_batch(**kwargs)


def test_a_throttled_message_comes_back_within_seconds_not_after_the_visibility_timeout(stack: Stack) -> None:
    queue_mode(stack)
    stack.put("acc-1", "t1", "credit", "1.00")
    stack.put("acc-2", "t2", "credit", "2.00")
    stream_handler(stack, stack.new_records())
    messages = stack.receive(stack.buffer_url)
    sqs = RecordVisibility(boto3.client("sqs"))
    with clients_through(stack, dynamodb=ThrottleAccount(boto3.client("dynamodb"), "acc-2"), sqs=sqs):
        failed = failed_ids(writer_handler(stack, sqs_event(messages)))
    throttled = [m for m in messages if m["MessageId"] in failed]
    assert len(throttled) == 1
    assert [(e["ReceiptHandle"], 1 <= e["VisibilityTimeout"] <= 2) for e in sqs.entries] == [
        (throttled[0]["ReceiptHandle"], True)
    ]
    back = poll_receive(stack, seconds=4)
    assert [m["MessageId"] for m in back] == [throttled[0]["MessageId"]]
    assert back[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    assert failed_ids(writer_handler(stack, sqs_event(back))) == []
    assert summaries(stack.dynamodb) == stack.expected()


def poll_receive(stack: Stack, seconds: float) -> list[dict[str, Any]]:
    """Receive from the buffer queue until a message comes back, for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = stack.sqs.receive_message(
            QueueUrl=stack.buffer_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
        ).get("Messages", [])
        if got:
            return list(got)
    return []


def test_a_message_failing_again_and_again_backs_off_to_the_ceiling(stack: Stack) -> None:
    stack.env["BACKOFF_MAX_SECONDS"] = "30"
    queue_mode(stack)
    stack.put("acc-2", "t2", "credit", "2.00")
    stream_handler(stack, stack.new_records())
    event = sqs_event(stack.receive(stack.buffer_url))
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = "9"
    sqs = RecordVisibility(boto3.client("sqs"))
    with clients_through(stack, dynamodb=ThrottleAccount(boto3.client("dynamodb"), "acc-2"), sqs=sqs):
        assert len(failed_ids(writer_handler(stack, event))) == 1
    assert 15 <= sqs.entries[0]["VisibilityTimeout"] <= 30


def test_a_missing_setting_is_named(stack: Stack) -> None:
    del stack.env["APPLIED_TABLE"]
    stack.put("acc-1", "t1", "debit", "1")
    with pytest.raises(ConfigurationError, match="APPLIED_TABLE"):
        stream_handler(stack, stack.new_records())


def emitted_metrics(output: str) -> dict[str, list[float]]:
    """The metrics of every EMF document a handler printed, by name."""
    found: dict[str, list[float]] = {}
    for line in output.splitlines():
        document = json.loads(line) if line.startswith('{"_aws"') else None
        if document:
            for definition in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                found.setdefault(definition["Name"], []).extend(document[definition["Name"]])
    return found


def test_pattern_2s_stream_function_counts_deltas_published_and_messages_sent_not_summary_writes(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    queue_mode(stack)
    for i in range(4):
        stack.put(f"acc-{i % 2}", f"t{i}", "credit", "1.00")
    capsys.readouterr()
    stream_handler(stack, stack.new_records())
    published = emitted_metrics(capsys.readouterr().out)
    assert (published["DeltasPublished"], published["MessagesSent"], published["RecordsRead"]) == ([2], [2], [4])
    assert "RecordsApplied" not in published and "SummaryWrites" not in published
    writer_handler(stack, sqs_event(stack.receive(stack.buffer_url)))
    written = emitted_metrics(capsys.readouterr().out)
    assert (written["RecordsApplied"], written["SummaryWrites"]) == ([4], [2])
    assert "DeltasPublished" not in written


def events_handler(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from ledger_aggregator.handlers import events

    details: list[dict[str, Any]] = events.make_handler(composition.events_from_environment())(records, Context())
    return details


def test_the_events_enrichment_gives_one_detail_per_summary_change_the_stream_function_wrote(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOYMENT_NAME", "unit-ledger")
    key = summary_key("acc-1", "EUR")
    stack.put("acc-1", "t1", "credit", "80.5")
    assert stream_handler(stack, stack.new_records()) == {"batchItemFailures": []}
    first = stack.dynamodb.get_item(TableName=SUMMARY, Key=key)["Item"]
    stack.put("acc-1", "t2", "debit", "0.5")
    assert stream_handler(stack, stack.new_records()) == {"batchItemFailures": []}
    second = stack.dynamodb.get_item(TableName=SUMMARY, Key=key)["Item"]
    records = [
        {"eventName": "INSERT", "dynamodb": {"NewImage": first}},
        {"eventName": "MODIFY", "dynamodb": {"OldImage": first, "NewImage": second}},
        {"eventName": "MODIFY", "dynamodb": {"OldImage": second, "NewImage": second}},  # no money write
    ]
    details = events_handler(records)
    created = int(first["revision"]["N"])  # the floor of the item's creation, plus one
    assert [(d["eventId"], d["previousRevision"], d["correction"]) for d in details] == [
        (f"acc-1:EUR:{created}", None, False),
        (f"acc-1:EUR:{created + 1}", created, False),
    ]
    assert details[1]["before"]["balance"] == "80.50" and details[1]["after"]["balance"] == "80.00"
    assert details[1]["deployment"] == "unit-ledger"


def test_the_events_enrichment_refuses_to_run_without_its_deployment_name(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEPLOYMENT_NAME", raising=False)
    with pytest.raises(ConfigurationError, match="DEPLOYMENT_NAME"):
        events_handler([])
