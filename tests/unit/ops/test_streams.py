"""The operator's stream readers (ledger_ops.streams): the tail that follows a stream and the range reader."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest

from ledger_ops.streams import MAX_EMPTY_PAGES, IncompleteRangeError, StreamTail, TrimmedError, read_range
from tests.support.aws import DETAILS
from tests.support.ledger import Ledger, image
from tests.support.streams import PagedStream, Shards, TrimmedStream

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient


def test_the_stream_reader_follows_new_records_and_rereads_a_range(ledger_tables: Any) -> None:
    arn = ledger_tables.describe_table(TableName=DETAILS)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams")
    for i in range(3):
        ledger_tables.put_item(TableName=DETAILS, Item=image("a", f"t{i}", "credit", "1"))
    tail = StreamTail(streams, arn)
    assert tail.refresh() == 3
    ledger_tables.put_item(TableName=DETAILS, Item=image("b", "t9", "debit", "2"))
    assert tail.refresh() == 1
    assert [r["dynamodb"]["Keys"]["transactionId"]["S"] for r in tail.of_account("a")] == ["t0", "t1", "t2"]
    _, second, third, _ = (r["dynamodb"]["SequenceNumber"] for r in tail.records)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    again = read_range(streams, arn, shard, second, third)
    assert [r["dynamodb"]["SequenceNumber"] for r in again] == [second, third]


def test_a_range_no_longer_retained_is_reported_as_trimmed() -> None:
    with pytest.raises(TrimmedError):
        read_range(cast("DynamoDBStreamsClient", TrimmedStream()), "arn", "s-1", "5", "9")


def test_a_range_is_read_past_empty_pages_to_its_end() -> None:
    """Reviewed finding: reading stopped at the first empty page, so 102 and 103 were never applied
    while the given-up message was deleted."""
    stream = PagedStream([[100, 101], [], [102, 103], [104]])
    found = read_range(cast("DynamoDBStreamsClient", stream), "arn", "s-1", "100", "103")
    assert [r["dynamodb"]["SequenceNumber"] for r in found] == ["100", "101", "102", "103"]


@pytest.mark.parametrize(
    "pages", [[[100, 101], []], [[100, 101], [102]]], ids=["empty-until-the-bound", "closed-before-the-end"]
)
def test_a_range_that_never_reaches_its_end_is_refused_not_cut_short(pages: list[list[int]]) -> None:
    stream = PagedStream(pages, closed=pages[-1] != [])
    with pytest.raises(IncompleteRangeError, match="103"):
        read_range(cast("DynamoDBStreamsClient", stream), "arn", "s-1", "100", "103")
    assert stream.reads <= MAX_EMPTY_PAGES + len(pages)


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
def test_the_tail_reads_past_empty_pages_to_the_shards_later_records(closed: bool) -> None:
    """Reviewed finding: three empty pages in a row were taken for the tip, before later records."""
    ledger = Ledger()
    first, removal = ledger.put(image("a", "t1", "credit", "1")), ledger.remove("a", "t1")
    for n, record in enumerate((first, removal), start=1):
        record["dynamodb"]["SequenceNumber"] = str(n)
    pages: list[list[dict[str, Any]]] = [[first], *([[]] * 40), [removal], []]
    tail = StreamTail(cast("DynamoDBStreamsClient", Shards(pages, closed)), "arn")
    assert tail.refresh() == 2
    assert [r["eventName"] for r in tail.records] == ["INSERT", "REMOVE"]


def test_a_closed_shard_that_never_ends_is_refused_not_cut_short() -> None:
    stream = Shards([[], []], closed=True)
    stream.get_records = lambda ShardIterator, Limit: {"Records": [], "NextShardIterator": "0"}  # type: ignore[method-assign]
    with pytest.raises(IncompleteRangeError, match="closed shard"):
        StreamTail(cast("DynamoDBStreamsClient", stream), "arn").refresh()
