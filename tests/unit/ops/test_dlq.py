"""dlq inspect and replay: what each message is, and what replay does with it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

import pytest

from ledger_aggregator.codec import encode
from ledger_aggregator.domain import coalesce, parse_batch
from ledger_ops.dlq import Entry, Replayer, classify, held
from tests.support.fakes import FakeSummaries
from tests.support.ledger import Ledger, image
from tests.support.streams import PagedStream, TrimmedStream

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

NOW = 1_767_225_600.0
TTL = 15 * 86_400


def message(body: Any, received: str = "1", age_days: float = 0.1) -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    sent = str(int((NOW - age_days * 86_400) * 1000))
    attributes = {"ApproximateReceiveCount": received, "SentTimestamp": sent}
    return {"MessageId": "m1", "ReceiptHandle": "r1", "Body": text, "Attributes": attributes}


def replayer_of(sqs: Any, streams: Any, store: Any, exact: bool = True) -> Replayer:
    return Replayer(sqs, streams, store, None, lambda: exact, marker_ttl_seconds=TTL, clock=lambda: NOW)


def test_each_kind_of_message_is_named_with_its_reason() -> None:
    ledger = Ledger()
    record = ledger.put(image("acc", "t1", "credit", "2.50"))
    parked = {"kind": "poison-record", "reason": "amount is not a decimal", "field": "amount", "recordId": "ev1"}
    entry = classify("stream", message({**parked, "record": record}))
    assert (entry.kind, entry.summary) == (
        "poison-record",
        "acc/t1: amount is not a decimal (field amount), eventID ev1",
    )
    info = {"shardId": "s-1", "startSequenceNumber": "5", "endSequenceNumber": "9", "batchSize": 5}
    entry = classify(
        "stream", message({"requestContext": {"condition": "RetryAttemptsExhausted"}, "DDBStreamBatchInfo": info})
    )
    assert (entry.kind, entry.summary) == ("given-up-batch", "5 records of s-1 5..9, RetryAttemptsExhausted")
    (delta,) = coalesce(parse_batch(ledger.records).changes)
    entry = classify("buffer", message(encode(delta), received="6"))
    line = "acc/EUR: 1 records, credits 2.50 debits 0 held 0 count 1 (received 6 times)"
    assert (entry.kind, entry.summary) == ("delta", line)
    entry = classify("buffer", message("{not json"))
    assert (entry.kind, entry.summary) == ("undecodable", "message body is not JSON (received 1 times)")
    refused = {**parked, "source": "queue", "recordId": "m-9", "field": "deltaId", "record": {"body": "{}"}}
    entry = classify("buffer", message(refused))
    assert (entry.kind, entry.summary) == (
        "poison-record",
        "buffer message m-9: amount is not a decimal (field deltaId)",
    )


class Sqs:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        self.deleted.append(ReceiptHandle)


def given_up() -> Entry:
    info = {"streamArn": "arn", "shardId": "s-1", "startSequenceNumber": "5", "endSequenceNumber": "9"}
    return classify("stream", message({"DDBStreamBatchInfo": info}))


@pytest.mark.parametrize(("exact", "status"), [(True, "applied"), (False, "kept")])
def test_a_trimmed_batch_falls_back_to_reconcile(exact: bool, status: str) -> None:
    sqs = Sqs()
    replayer = replayer_of(sqs, TrimmedStream(), FakeSummaries(), exact)
    result = replayer.replay("url", given_up())
    assert result.status == status
    assert sqs.deleted == (["r1"] if exact else []), "deleted only when reconcile shows nothing was lost"


def test_poison_is_left_where_it_is_and_a_buffered_delta_is_applied() -> None:
    ledger = Ledger()
    ledger.put(image("acc", "t1", "credit", "2.50"))
    (delta,) = coalesce(parse_batch(ledger.records).changes)
    sqs, store = Sqs(), FakeSummaries()
    replayer = replayer_of(sqs, TrimmedStream(), store)
    poison = classify("stream", message({"kind": "poison-record", "reason": "x", "record": ledger.records[0]}))
    assert replayer.replay("url", poison).status == "left"
    assert replayer.replay("url", classify("buffer", message(encode(delta)))).status == "applied"
    assert (store.applied, sqs.deleted) == ({ledger.records[0]["eventID"]}, ["r1"])


def test_a_given_up_batch_whose_range_cannot_be_read_whole_is_kept() -> None:
    sqs = Sqs()
    replayer = replayer_of(sqs, PagedStream([[5, 6], []]), FakeSummaries())
    result = replayer.replay("url", given_up())
    assert (result.status, sqs.deleted) == ("kept", [])
    assert "9" in result.detail


class SamplingSqs(Sqs):
    """SQS short polling samples a subset of servers: a receive can be empty while messages wait."""

    def __init__(self, bodies: list[str], empty_first: int) -> None:
        super().__init__()
        self._waiting = [{"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": b} for i, b in enumerate(bodies)]
        self._empty_first = empty_first
        self.waits: list[int] = []

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        return {
            "Attributes": {
                "ApproximateNumberOfMessages": str(len(self._waiting)),
                "ApproximateNumberOfMessagesNotVisible": "0",
            }
        }

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        self.waits.append(kwargs.get("WaitTimeSeconds", 0))
        if self._empty_first:
            self._empty_first -= 1
            return {}
        got, self._waiting = self._waiting[:10], self._waiting[10:]
        return {"Messages": got} if got else {}

    def change_message_visibility_batch(self, **_: Any) -> None:
        pass


def test_holding_a_dlq_long_polls_until_every_message_counted_is_seen() -> None:
    """Reviewed finding: inspect and replay short-polled and stopped at the first empty receive, and
    reported "0 replayed" with messages present."""
    sqs = SamplingSqs(["{}"] * 12, empty_first=1)
    with held(cast("SQSClient", sqs), "buffer", "url") as holding:
        assert (len(holding.entries), holding.unseen) == (12, 0)
    assert all(wait > 0 for wait in sqs.waits), "long polling"


def test_messages_never_seen_are_reported_not_passed_over() -> None:
    sqs = SamplingSqs(["{}"] * 3, empty_first=100)
    with held(cast("SQSClient", sqs), "buffer", "url") as holding:
        assert (holding.entries, holding.unseen) == ([], 3)


class HeldElsewhereSqs(SamplingSqs):
    """One message is in flight to another reader: counted as not visible, never received."""

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        attributes = super().get_queue_attributes(QueueUrl, AttributeNames)["Attributes"]
        return {"Attributes": {**attributes, "ApproximateNumberOfMessagesNotVisible": "1"}}


def test_a_message_in_flight_to_another_reader_is_reported_unseen() -> None:
    sqs = HeldElsewhereSqs(["{}"] * 2, empty_first=0)
    with held(cast("SQSClient", sqs), "stream", "url") as holding:
        assert (len(holding.entries), holding.unseen) == (2, 1)


@pytest.mark.parametrize(("age_days", "status"), [(13.9, "applied"), (14.1, "kept"), (40, "kept")])
def test_a_message_near_the_markers_lifetime_is_kept_not_replayed(age_days: float, status: str) -> None:
    """Reviewed finding: replay never compared a message's age with the applied markers' lifetime, which
    docs/exactly-once.md requires: a change whose marker expired would be counted again."""
    ledger = Ledger()
    ledger.put(image("acc", "t1", "credit", "2.50"))
    (delta,) = coalesce(parse_batch(ledger.records).changes)
    sqs, store = Sqs(), FakeSummaries()
    result = replayer_of(sqs, TrimmedStream(), store).replay(
        "url", classify("buffer", message(encode(delta), age_days=age_days))
    )
    assert result.status == status
    assert (store.applied == set()) == (status == "kept") and (sqs.deleted == []) == (status == "kept")
    if status == "kept":
        assert "markers" in result.detail


def test_a_message_of_unknown_age_is_not_replayed() -> None:
    ledger = Ledger()
    ledger.put(image("acc", "t1", "credit", "2.50"))
    (delta,) = coalesce(parse_batch(ledger.records).changes)
    unknown = message(encode(delta))
    del unknown["Attributes"]["SentTimestamp"]
    assert (
        replayer_of(Sqs(), TrimmedStream(), FakeSummaries()).replay("url", classify("buffer", unknown)).status == "kept"
    )
