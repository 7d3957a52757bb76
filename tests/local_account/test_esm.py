"""Event source mapping decisions, with AWS's semantics, against a scripted function."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from local_account.esm import QueuePoller, Stats, StreamPoller
from local_account.lambdas import Outcome

STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/details/stream/2026"
DLQ_ARN = "arn:aws:sqs:eu-west-1:123456789012:stream-dlq"


class RecordingSqs:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.deleted: list[str] = []

    def get_queue_url(self, QueueName: str) -> dict[str, str]:
        return {"QueueUrl": f"https://sqs/{QueueName}"}

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:
        self.sent.append(json.loads(MessageBody))

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> None:
        self.deleted += [e["ReceiptHandle"] for e in Entries]


def records(count: int, age_seconds: float = 0) -> list[dict[str, Any]]:
    created = time.time() - age_seconds
    return [
        {"eventID": f"e{i}", "dynamodb": {"SequenceNumber": f"{100 + i}", "ApproximateCreationDateTime": created}}
        for i in range(count)
    ]


def stream_poller(answer: Outcome, sqs: RecordingSqs, **mapping: Any) -> StreamPoller:
    settings = {
        "UUID": "u-1",
        "EventSourceArn": STREAM_ARN,
        "FunctionArn": "arn:aws:lambda:eu-west-1:1:function:f",
        "BatchSize": 10,
        "MaximumRetryAttempts": 2,
        "MaximumRecordAgeInSeconds": 3600,
        "BisectBatchOnFunctionError": True,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": DLQ_ARN}},
        **mapping,
    }
    return StreamPoller(settings, {"dynamodbstreams": None, "sqs": sqs}, lambda event: answer, "eu-west-1")


def failures(*sequences: str) -> Outcome:
    return Outcome(result={"batchItemFailures": [{"itemIdentifier": s} for s in sequences]})


def test_a_clean_batch_is_checkpointed_whole() -> None:
    assert stream_poller(Outcome(result={"batchItemFailures": []}), RecordingSqs())._process("s", records(5), 0) == (
        5,
        0,
        10,
    )


def test_a_partial_failure_resumes_at_the_lowest_failed_sequence_number() -> None:
    poller = stream_poller(failures("106", "103"), RecordingSqs())
    assert poller._process("s", records(8), 0) == (3, 0, 10)


def test_a_failure_of_the_first_record_is_a_retry() -> None:
    assert stream_poller(failures("100"), RecordingSqs())._process("s", records(4), 0) == (0, 1, 10)


@pytest.mark.parametrize("identifier", ["", "999"])
def test_an_invalid_item_identifier_fails_the_whole_batch(identifier: str) -> None:
    assert stream_poller(failures(identifier), RecordingSqs())._process("s", records(4), 0) == (0, 1, 10)


def test_a_function_error_bisects_the_batch() -> None:
    crashed = Outcome(error="boom", error_type="Timeout")
    assert stream_poller(crashed, RecordingSqs())._process("s", records(8), 0) == (0, 1, 4)
    assert stream_poller(crashed, RecordingSqs(), BisectBatchOnFunctionError=False)._process("s", records(8), 0) == (
        0,
        1,
        10,
    )


def test_exhausted_retries_send_the_batch_location_to_the_destination_and_move_on() -> None:
    sqs = RecordingSqs()
    crashed = Outcome(error="boom", error_type="Unhandled")
    assert stream_poller(crashed, sqs)._process("shard-1", records(3), 2) == (3, 0, 10)
    (sent,) = sqs.sent
    assert sent["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert sent["requestContext"]["approximateInvokeCount"] == 3
    assert sent["responseContext"]["functionError"] == "Unhandled"
    info = sent["DDBStreamBatchInfo"]
    assert (info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        "shard-1",
        "100",
        "102",
        3,
    )
    assert info["streamArn"] == STREAM_ARN


def test_records_past_their_maximum_age_are_given_up_unread() -> None:
    sqs = RecordingSqs()
    invoked: list[Any] = []
    poller = stream_poller(Outcome(result={}), sqs, MaximumRecordAgeInSeconds=60)

    def invoke(event: Any) -> Outcome:
        invoked.append(event)
        return Outcome(result={})

    poller._invoke = invoke
    assert poller._process("s", records(2, age_seconds=120) + records(1), 0)[0] == 2
    assert invoked == [] and sqs.sent[0]["requestContext"]["condition"] == "RecordAgeExceeded"


def test_sqs_deletes_only_the_successes_and_nothing_after_a_function_error() -> None:
    messages = [{"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": "{}"} for i in range(4)]
    mapping = {
        "UUID": "u-2",
        "EventSourceArn": "arn:aws:sqs:eu-west-1:1:q",
        "BatchSize": 10,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": 2},
    }
    sqs = RecordingSqs()
    stats = Stats()
    partial = QueuePoller(mapping, {"sqs": sqs}, lambda event: failures("m1", "m3"), "eu-west-1", stats)
    assert len(partial._threads) == 2
    partial._deliver(messages)
    assert sqs.deleted == ["r0", "r2"]
    crashed = QueuePoller(mapping, {"sqs": sqs}, lambda event: Outcome(error="x"), "eu-west-1", stats)
    crashed._deliver(messages[1:2])
    assert sqs.deleted == ["r0", "r2"]
    crashed._deliver(messages[1:2])
    redelivered = stats.redeliveries
    assert (redelivered.after_report, redelivered.after_crash) == (1, 1)  # m1 came back twice: reported, crashed
    assert set(redelivered.away) == {"m1", "m3"}


def test_redeliveries_measure_how_long_a_message_stayed_away_by_why() -> None:
    stats = Stats()
    stats.received(["a", "b"], 100.0)
    stats.failed(["a"], 100.0, crashed=False)
    stats.failed(["b"], 100.0, crashed=True)
    stats.received(["a"], 103.5)
    stats.received(["b", "c"], 161.0)
    r = stats.redeliveries
    assert (r.after_report, r.longest_after_report, r.after_crash, r.longest_after_crash) == (1, 3.5, 1, 61.0)
    stats.reset()
    assert stats.redeliveries.after_report == 0 and stats.redeliveries.away == {}


def test_stats_keep_the_peak_age_of_the_oldest_record_handed_to_a_function() -> None:
    stats = Stats()
    now = 1_000.0
    stats.observe({"Records": records(3, age_seconds=0)}, now)  # created "now" by time.time(): age near 0
    stream = [
        {"dynamodb": {"ApproximateCreationDateTime": now - 7.5}},
        {"dynamodb": {"ApproximateCreationDateTime": now - 2}},
    ]
    stats.observe({"Records": stream}, now)
    stats.observe({"Records": [{"attributes": {"SentTimestamp": str(int((now - 4) * 1000))}}]}, now)
    stats.observe({"Records": [{"attributes": {"SentTimestamp": str(int((now - 1) * 1000))}}]}, now)
    assert (stats.peak_stream_age, stats.peak_queue_age) == (7.5, 4.0)
    stats.count("f", Outcome(error="boom", error_type="Timeout", duration_ms=12.4))
    assert (stats.invocations, stats.function_errors, stats.timeouts, stats.milliseconds["f"]) == (1, 1, 1, 12)
    stats.reset()
    assert (stats.invocations, stats.peak_stream_age, stats.peak_queue_age, dict(stats.calls)) == (0, 0.0, 0.0, {})
