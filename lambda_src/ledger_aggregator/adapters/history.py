"""The history store: the closer's reads (summaries' keys, booked rows) and its create-only writes of closes.

Rows are read from the details table's ``byRecordedAt`` index, the same Query the listing runs: an index
is eventually consistent, which is why a day is closed only once sealed, a margin past its end
(docs/history.md). Closes are read strongly consistent from the history table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..domain import Key
from ..history import Close, HistoryError, recorded_ms, valid_in
from ..history_item import ACCOUNT, CREATE_ONLY, CURRENCY, PERIOD, close_item, close_of, item_key, period_key
from ..ports import Created

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_LAST_DAY = "9999-99-99"  # sorts after every day of a currency's keys


@dataclass(frozen=True, slots=True)
class HistoryTables:
    """Where the closer reads and writes: the details table and its index, the summaries, the closes."""

    details: str
    index: str
    summary: str
    history: str


class DynamoHistory:
    """A :class:`~ledger_aggregator.ports.HistoryStore` on DynamoDB."""

    def __init__(
        self,
        client: DynamoDBClient,
        tables: HistoryTables,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        segments: int = 4,
    ) -> None:
        self._client, self._tables, self._now_ms, self._segments = client, tables, now_ms, segments

    def keys(self) -> Iterator[Key]:
        """The summaries' keys, read with a parallel scan of their key attributes."""

        def segment(number: int) -> list[Key]:
            pages = self._client.get_paginator("scan").paginate(
                TableName=self._tables.summary,
                Segment=number,
                TotalSegments=self._segments,
                ProjectionExpression="#a, #c",
                ExpressionAttributeNames={"#a": ACCOUNT, "#c": CURRENCY},
            )
            return [(i[ACCOUNT]["S"], i[CURRENCY]["S"]) for page in pages for i in page["Items"]]

        with ThreadPoolExecutor(max_workers=self._segments) as pool:
            for part in pool.map(segment, range(self._segments)):
                yield from part

    def _closes(self, key: Key, low: str, high: str, newest_first: bool, limit: int | None) -> list[Close]:
        account, currency = key
        request: dict[str, Any] = {
            "TableName": self._tables.history,
            "KeyConditionExpression": "#a = :a AND #p BETWEEN :lo AND :hi",
            "ExpressionAttributeNames": {"#a": ACCOUNT, "#p": PERIOD},
            "ExpressionAttributeValues": {
                ":a": {"S": account},
                ":lo": {"S": period_key(currency, low)},
                ":hi": {"S": period_key(currency, high)},
            },
            "ScanIndexForward": not newest_first,
            "ConsistentRead": True,
        }
        if limit:
            request["Limit"] = limit
            return [close_of(i) for i in self._client.query(**request)["Items"]]
        pages = self._client.get_paginator("query").paginate(**request)
        return [close_of(i) for page in pages for i in page["Items"]]

    def last_day(self, key: Key) -> Close | None:
        """The key's latest day close (a month's item sorts before its days, so the newest item is a day)."""
        found = self._closes(key, "0", _LAST_DAY, newest_first=True, limit=1)
        if found and not found[0].is_day:
            raise HistoryError(f"{'/'.join(key)}: the newest close, {found[0].period}, is not a day")
        return found[0] if found else None

    def month_days(self, key: Key, month: str) -> list[Close]:
        """The key's day closes of ``month``."""
        return self._closes(key, f"{month}-01", f"{month}-31", newest_first=False, limit=None)

    def closes_between(self, key: Key, first: date, last: date) -> list[Close]:
        """The key's day closes from ``first`` to ``last`` (a range across months also meets month items)."""
        found = self._closes(key, first.isoformat(), last.isoformat(), newest_first=False, limit=None)
        return [c for c in found if c.is_day]

    def _booked(self, account: str, start_ms: int, end_ms: int, **extra: Any) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self._tables.details,
            "IndexName": self._tables.index,
            "KeyConditionExpression": "#a = :a AND #r BETWEEN :from AND :to",
            "ExpressionAttributeNames": {"#a": ACCOUNT, "#r": "recordedAt", **extra.pop("names", {})},
            "ExpressionAttributeValues": {
                ":a": {"S": account},
                ":from": {"N": str(start_ms)},
                ":to": {"N": str(end_ms)},
                **extra.pop("values", {}),
            },
            **extra,
        }
        for page in self._client.get_paginator("query").paginate(**request):
            yield from page["Items"]

    def first_booked(self, key: Key) -> int | None:
        """The first valid row of the key's currency on the index (read in booking order until one is found)."""
        account, currency = key
        rows = self._booked(
            account,
            0,
            self._now_ms(),
            FilterExpression="#c = :c",
            names={"#c": CURRENCY},
            values={":c": {"S": currency}},
            ScanIndexForward=True,
        )
        for row in rows:
            moment = recorded_ms(row)
            if moment is not None and valid_in(row, key):
                return moment
        return None

    def rows(self, account: str, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        """The account's rows booked in a range of epoch milliseconds."""
        return list(self._booked(account, start_ms, end_ms))

    def create(self, close: Close) -> Created:
        """A conditional put (``attribute_not_exists``); when an item is there, a consistent read compares it."""
        try:
            self._client.put_item(
                TableName=self._tables.history,
                Item=close_item(close, self._now_ms()),
                ConditionExpression=CREATE_ONLY,
            )
            return Created.WRITTEN
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        stored = self._client.get_item(
            TableName=self._tables.history,
            Key=item_key(close.account_id, close.currency, close.period),
            ConsistentRead=True,
        ).get("Item")
        return Created.PRESENT if stored is not None and close_of(stored) == close else Created.DIFFERS
