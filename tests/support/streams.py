"""Doubles of DynamoDB Streams for the operator's stream readers: trimmed ranges, pages with gaps."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


class TrimmedStream:
    """A stream whose ranges are all trimmed: every iterator asked for is refused."""

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        error = {"Error": {"Code": "TrimmedDataAccessException", "Message": "trimmed"}}
        raise ClientError(error, "GetShardIterator")  # type: ignore[arg-type]


class PagedStream:
    """A shard read page by page, as GetRecords answers: empty pages may come before the records."""

    def __init__(self, pages: list[list[int]], closed: bool = False) -> None:
        self._pages = pages
        self._closed = closed
        self.reads = 0

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        self.reads += 1
        index = int(ShardIterator)
        records = [{"eventID": f"e{n}", "dynamodb": {"SequenceNumber": str(n)}} for n in self._pages[index]]
        last = index + 1 == len(self._pages)
        following = None if last and self._closed else str(min(index + 1, len(self._pages) - 1))
        return {"Records": records, "NextShardIterator": following}


class Shards:
    """DynamoDB Streams with one shard, read page by page: empty pages may come before later records."""

    def __init__(self, pages: list[list[dict[str, Any]]], closed: bool) -> None:
        self._pages = pages
        self._closed = closed
        self.reads = 0

    def describe_stream(self, **_: Any) -> dict[str, Any]:
        ranges = {"StartingSequenceNumber": "1", **({"EndingSequenceNumber": "999"} if self._closed else {})}
        return {"StreamDescription": {"Shards": [{"ShardId": "s-1", "SequenceNumberRange": ranges}]}}

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        self.reads += 1
        index = int(ShardIterator)
        last = index + 1 >= len(self._pages)
        following = None if last and self._closed else str(min(index + 1, len(self._pages) - 1))
        return {"Records": self._pages[index], "NextShardIterator": following}
