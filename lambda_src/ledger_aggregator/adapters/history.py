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
from ..history_item import (
    ACCOUNT,
    CREATE_ONLY,
    CURRENCY,
    FIRST_BOOKED,
    PERIOD,
    SEARCHED_THROUGH,
    close_item,
    close_of,
    first_key,
    item_key,
    period_key,
)
from ..ports import Created

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_LAST_DAY = "9999-99-99"  # sorts after every day of a currency's keys
# Rows a page of the first-row search reads: the first valid row is most often the first of the key's
# currency, so a page short of DynamoDB's 1 MB keeps the search to a read unit or two.
FIRST_ROW_PAGE = 25


def _unless_refused(write: Callable[[], Any]) -> bool:
    """Run a conditional write; False when its condition refused it (any other error is raised)."""
    try:
        write()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        return False
    return True


class Pace:
    """Spends read units at no more than ``per_second`` on average: sleeps after a page that ran ahead."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rate, self._clock, self._sleep = per_second, clock, sleep
        self._start, self._spent = clock(), 0.0

    def spend(self, units: float) -> None:
        """Count units read; wait until the average is back within the rate."""
        self._spent += units
        ahead = self._spent / self._rate - (self._clock() - self._start)
        if ahead > 0:
            self._sleep(ahead)


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
        """The summaries' keys. A summary table with provisioned reads is scanned in one segment, in small pages,
        paced to half its read capacity, so that the API's summary reads keep the other half; an on-demand
        one in parallel segments."""
        described = self._client.describe_table(TableName=self._tables.summary)["Table"]
        capacity = described.get("ProvisionedThroughput", {}).get("ReadCapacityUnits") or 0
        if capacity:
            yield from self._scan_keys(0, 1, Pace(capacity / 2))
            return
        with ThreadPoolExecutor(max_workers=self._segments) as pool:
            for part in pool.map(lambda n: list(self._scan_keys(n, self._segments, None)), range(self._segments)):
                yield from part

    def _scan_keys(self, segment: int, segments: int, pace: Pace | None) -> Iterator[Key]:
        request: dict[str, Any] = {
            "TableName": self._tables.summary,
            "Segment": segment,
            "TotalSegments": segments,
            "ProjectionExpression": "#a, #c",
            "ExpressionAttributeNames": {"#a": ACCOUNT, "#c": CURRENCY},
            "ReturnConsumedCapacity": "TOTAL",
        }
        if pace:
            request["Limit"] = 25
        for page in self._client.get_paginator("scan").paginate(**request):
            yield from ((i[ACCOUNT]["S"], i[CURRENCY]["S"]) for i in page["Items"])
            if pace:
                pace.spend(float(page.get("ConsumedCapacity", {}).get("CapacityUnits", 0)))

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

    def first_booked(self, key: Key, until_ms: int) -> int | None:
        """The recordedAt of the key's first valid row at or before ``until_ms``, the end of a sealed period.

        The key's first-row item remembers the search: ``firstBookedAt`` once found (create-only: it never
        changes), else ``searchedThrough``, so that each run reads only the rows booked since the last one.
        Nothing after ``until_ms`` is read or kept: a row found there may yet be preceded by one in flight.
        """
        account, currency = key
        stored = (
            self._client.get_item(
                TableName=self._tables.history, Key=first_key(account, currency), ConsistentRead=True
            ).get("Item")
            or {}
        )
        if FIRST_BOOKED in stored:
            kept = int(stored[FIRST_BOOKED]["N"])
            return kept if kept <= until_ms else None
        start = int(stored[SEARCHED_THROUGH]["N"]) + 1 if SEARCHED_THROUGH in stored else 0
        if start > until_ms:
            return None
        found = self._search_first(key, start, until_ms)
        self._remember(key, found, until_ms)
        return found

    def _remember(self, key: Key, found: int | None, until_ms: int) -> None:
        account, currency = key
        if found is not None:
            request: dict[str, Any] = {
                "UpdateExpression": "SET #f = :f REMOVE #s",
                "ConditionExpression": "attribute_not_exists(#f)",
                "ExpressionAttributeNames": {"#f": FIRST_BOOKED, "#s": SEARCHED_THROUGH},
                "ExpressionAttributeValues": {":f": {"N": str(found)}},
            }
        else:
            request = {
                "UpdateExpression": "SET #s = :s",
                "ConditionExpression": "attribute_not_exists(#f) AND (attribute_not_exists(#s) OR #s < :s)",
                "ExpressionAttributeNames": {"#f": FIRST_BOOKED, "#s": SEARCHED_THROUGH},
                "ExpressionAttributeValues": {":s": {"N": str(until_ms)}},
            }
        _unless_refused(
            lambda: self._client.update_item(
                TableName=self._tables.history, Key=first_key(account, currency), **request
            )
        )

    def _search_first(self, key: Key, start_ms: int, until_ms: int) -> int | None:
        account, currency = key
        rows = self._booked(
            account,
            start_ms,
            until_ms,
            FilterExpression="#c = :c",
            names={"#c": CURRENCY},
            values={":c": {"S": currency}},
            ScanIndexForward=True,
            Limit=FIRST_ROW_PAGE,
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
        written = _unless_refused(
            lambda: self._client.put_item(
                TableName=self._tables.history, Item=close_item(close, self._now_ms()), ConditionExpression=CREATE_ONLY
            )
        )
        if written:
            return Created.WRITTEN
        stored = self._client.get_item(
            TableName=self._tables.history,
            Key=item_key(close.account_id, close.currency, close.period),
            ConsistentRead=True,
        ).get("Item")
        return Created.PRESENT if stored is not None and close_of(stored) == close else Created.DIFFERS
