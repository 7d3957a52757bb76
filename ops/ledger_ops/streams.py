"""Reading the details table's DynamoDB stream from the operator's side.

The stream retains each record for 24 hours. ``StreamTail`` reads every retained
record of every shard and can be refreshed to pick up what arrived since;
``read_range`` re-reads the records of one given-up batch (shard and sequence
range), as an on-failure destination describes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_dynamodbstreams.literals import ShardIteratorTypeType
    from mypy_boto3_dynamodbstreams.type_defs import (
        DescribeStreamInputTypeDef,
        GetShardIteratorInputTypeDef,
        RecordTypeDef,
    )

PAGE = 1000
# GetRecords may answer empty pages before it reaches a shard's records ("GetRecords can return an
# empty result ... even when there are records later in the shard":
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html).
# A closed shard is read to its real end (no next iterator); past this many empty pages in a row the
# read is refused rather than cut short.
MAX_EMPTY_PAGES_CLOSED = 10_000
# An open shard gives no sign of its tip: it is taken as reached after this many empty pages in a row,
# the bound a range is read past empty pages with too. Rebuild does not rely on it alone: a key whose
# REMOVE it has not seen keeps its account unsettled (rebuild.reflected).
MAX_EMPTY_PAGES = 100


class TrimmedError(Exception):
    """The records asked for are older than the stream's retention (or the shard is gone)."""


class IncompleteRangeError(Exception):
    """A range could not be read to its end: the shard closed first, or only empty pages came back."""


@dataclass(slots=True)
class _Shard:
    iterator: str | None
    closed: bool
    last_sequence: str | None = None


def sequence_key(record: dict[str, Any]) -> int:
    """Stream sequence numbers are decimal strings that grow with time."""
    return int(record["dynamodb"]["SequenceNumber"])


class RecordTail(Protocol):
    """What rebuild reads of a stream: its retained records, per account, brought up to date."""

    def refresh(self) -> int:
        """Read what the stream gained since the last refresh; how many records it gained."""
        ...

    def of_account(self, account_id: str) -> list[dict[str, Any]]:
        """The retained records of one account, in sequence order."""
        ...


class StreamTail:
    """Every retained record of a stream, in sequence order, kept up to date by ``refresh``."""

    def __init__(
        self, client: DynamoDBStreamsClient, stream_arn: str, progress: Callable[[int], None] | None = None
    ) -> None:
        self._client = client
        self._arn = stream_arn
        self._progress = progress
        self._shards: dict[str, _Shard] = {}
        self.records: list[dict[str, Any]] = []

    def refresh(self) -> int:
        """Read what every shard holds beyond what was read before; return how many records were new."""
        before = len(self.records)
        for shard_id, closed in self._shard_ids():
            if shard_id not in self._shards:
                self._shards[shard_id] = _Shard(self._iterator(shard_id, "TRIM_HORIZON"), closed)
            self._shards[shard_id].closed = closed
            self._drain(shard_id, self._shards[shard_id])
        self.records.sort(key=sequence_key)
        return len(self.records) - before

    def _shard_ids(self) -> Iterator[tuple[str, bool]]:
        """Every shard, and whether it is closed (it has an ending sequence number)."""
        start: DescribeStreamInputTypeDef = {"StreamArn": self._arn}
        while True:
            description = self._client.describe_stream(**start)["StreamDescription"]
            for shard in description.get("Shards", []):
                closed = "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})
                yield shard["ShardId"], closed
            last = description.get("LastEvaluatedShardId")
            if not last:
                return
            start = {"StreamArn": self._arn, "ExclusiveStartShardId": last}

    def _iterator(self, shard_id: str, kind: ShardIteratorTypeType, sequence: str | None = None) -> str | None:
        request: GetShardIteratorInputTypeDef = {"StreamArn": self._arn, "ShardId": shard_id, "ShardIteratorType": kind}
        if sequence:
            request["SequenceNumber"] = sequence
        response = self._client.get_shard_iterator(**request)
        iterator = response.get("ShardIterator")
        return str(iterator) if iterator else None

    def _drain(self, shard_id: str, shard: _Shard) -> None:
        """Read a shard on: a closed one to its end, an open one to its tip (MAX_EMPTY_PAGES empty pages)."""
        empty = 0
        while shard.iterator and empty < (MAX_EMPTY_PAGES_CLOSED if shard.closed else MAX_EMPTY_PAGES):
            try:
                page = self._client.get_records(ShardIterator=shard.iterator, Limit=PAGE)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ExpiredIteratorException":
                    raise
                kind: ShardIteratorTypeType = "AFTER_SEQUENCE_NUMBER" if shard.last_sequence else "TRIM_HORIZON"
                shard.iterator = self._iterator(shard_id, kind, shard.last_sequence)
                continue
            records = _plain(page.get("Records", []))
            self.records += records
            if records:
                shard.last_sequence = records[-1]["dynamodb"]["SequenceNumber"]
                if self._progress:
                    self._progress(len(records))
            empty = 0 if records else empty + 1
            # A closed shard ends with no next iterator; an open one is kept for the next refresh.
            shard.iterator = page.get("NextShardIterator")
        if shard.closed and shard.iterator:
            raise IncompleteRangeError(f"{shard_id}: {empty} empty pages in a row before the closed shard's end")

    def of_account(self, account_id: str) -> list[dict[str, Any]]:
        """The retained records of one account, in sequence order."""
        return [r for r in self.records if r["dynamodb"].get("Keys", {}).get("accountId", {}).get("S") == account_id]


def _plain(records: Sequence[RecordTypeDef]) -> list[dict[str, Any]]:
    """Stream records as the plain JSON-shaped mappings the rest of the tools read (as Lambda receives them)."""
    return cast("list[dict[str, Any]]", list(records))


def read_range(
    client: DynamoDBStreamsClient, stream_arn: str, shard_id: str, start: str, end: str
) -> list[dict[str, Any]]:
    """The records of one shard from ``start`` to ``end`` (sequence numbers, inclusive).

    Raises TrimmedError when the range is no longer retained.
    """
    try:
        iterator = client.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=start
        ).get("ShardIterator")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("TrimmedDataAccessException", "ResourceNotFoundException"):
            raise TrimmedError(f"{shard_id} {start}..{end}: {error}") from error
        raise
    found: list[dict[str, Any]] = []
    first, last = int(start), int(end)
    empty = 0
    while iterator and empty < MAX_EMPTY_PAGES:
        page = client.get_records(ShardIterator=iterator, Limit=PAGE)
        records = _plain(page.get("Records", []))
        found += [r for r in records if first <= sequence_key(r) <= last]
        if records and sequence_key(records[-1]) >= last:
            break
        empty = 0 if records else empty + 1
        iterator = page.get("NextShardIterator")
    if not found or sequence_key(found[0]) != first:
        raise TrimmedError(f"{shard_id} {start}..{end}: the first record is no longer in the stream")
    if sequence_key(found[-1]) != last:
        seen = found[-1]["dynamodb"]["SequenceNumber"]
        raise IncompleteRangeError(f"{shard_id} {start}..{end}: read up to {seen} only, never reached {end}")
    return found
