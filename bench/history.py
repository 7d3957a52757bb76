"""The history's figures for `make bench-report` (and alone: `python -m bench.history`).

On the stack as bench-report last applied it (no injected faults), from rows written straight into the details
table with BatchWriteItem, booked on past days as the API writes them (tests/support/history.py), then folded
by the stack's own projection (the closer finds its keys in the summary table):

1. **A month's statement.** One account with ``rows`` rows spread over the previous calendar month, closed by
   the closer (``ledger_aggregator.closer.close_all`` over ``ledger_ops.history.history_store``, the code
   ``ledger-ops close`` runs). Then the month's statement asked two ways, each timed over rounds:
   - through the API, ``GET /accounts/{id}/statement?currency=EUR&month=YYYY-MM``;
   - as a client makes it without the closes: the month's listing through the API (``from``, ``to``, pages of
     100), folded on the client by ``ledger_aggregator.history`` (opening 0: the account has no earlier row).
   DynamoDB calls are counted where the local account answers them (every Query its DynamoDB served on the
   table, for the rounds), with the items each one read.
2. **The closer's cost.** ``accounts`` accounts, one row each on two consecutive mid-month days of the previous
   month. The key scan of the summary table, which every run starts with, is measured on its own; then
   ``closed`` of the keys, spread evenly over them, are closed three times: through the first day (each key's
   first close: one day), through the second (one more day per key: the daily run), through the second again
   (nothing to write: the hourly run). A key's calls and units do not depend on how many keys there are; its
   time here does: the local account's Query (moto's) reads every item of its table, so each one takes time in
   proportion to the table's items (``details_items``), where DynamoDB's follows what the Query reads. Closing
   every one of 10,000 keys would take hours here: the report gives the sample's time and its extrapolation.
   The closer's DynamoDB calls are counted through botocore's event hooks on its client (the adapter,
   ``DynamoHistory``, is not changed), which also ask for ``ReturnConsumedCapacity``.

Read and write units are computed by DynamoDB's documented rules from the items each call read or wrote
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html): a GetItem, Query
or Scan costs the size of the items it read (whole items, projected or not, filtered out or not) rounded up to
the next 4 KB, half of that when eventually consistent (always on an index), and at least that for nothing
read; a write costs its item's size rounded up to the next 1 KB, refused by its condition or not. The local
account answers ``ConsumedCapacity`` with a constant per call (1.0 a Query, Scan or PutItem, 0.5 a GetItem,
none for UpdateItem): it is kept as ``reported_units``, and it is what the closer's paced scan of a provisioned
summary table spends here.

The account's schedules (the scheduled closer's, where the stack has one) are disabled while this measures, so
that only the measured runs close; ``python -m bench.history --accounts N --closed M`` measures other sizes.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import boto3

from bench.alone import add_record_option, check_record, measure_alone, record_apart
from bench.listing import item_size
from harness.client import LedgerClient
from harness.stack import Stack
from ledger_aggregator.closer import ClosedRun, KeyClosed, close_all
from ledger_aggregator.domain import Key
from ledger_aggregator.history import (
    Statement,
    booked_by_day,
    close_days,
    day_start_ms,
    row_of_listing,
    statement,
)
from ledger_aggregator.summary_item import stored_totals
from ledger_ops.history import history_store
from local_account import fault_plan
from local_account.account import LocalAccount
from tests.support.history import booked_row

CURRENCY = "EUR"
PAGE = 100  # the listing's largest page
READ_UNIT_BYTES, WRITE_UNIT_BYTES = 4096, 1024
WRITERS = 8  # threads writing the rows
BATCH = 25  # BatchWriteItem's most
FOLD_LIMIT = 1800  # seconds the projection may take to fold the rows written
FIRST_DAY = 14  # the closer's two days: the 14th and 15th of the previous month (no month end)


@dataclass(frozen=True)
class HistorySizes:
    """How much the figures take: the report's, or ``--quick``'s (the same code on less)."""

    rows: int = 10_000  # in the statement's month, one account
    accounts: int = 10_000  # one row on each of two days: the tables and the key scan hold them all
    closed: int = 10_000  # the keys the measured runs close, spread over the accounts (here, all of them)
    rounds: int = 20  # statements asked through the API, timed
    listing_rounds: int = 2  # the month listed and folded on the client, timed


QUICK_HISTORY = HistorySizes(rows=300, accounts=40, closed=40, rounds=5, listing_rounds=1)


@dataclass
class Cost:
    """DynamoDB calls by operation, the items they read and wrote, and their units by DynamoDB's rules (counts
    are floats: a cost divided per key or per round)."""

    calls: dict[str, float] = field(default_factory=dict)
    items_read: float = 0
    items_written: float = 0
    read_units: float = 0.0
    write_units: float = 0.0
    reported_units: float = 0.0  # the sum of ConsumedCapacity as the local account answered it

    def add(self, other: Cost) -> None:
        """Count ``other`` in."""
        for operation, count in other.calls.items():
            self.calls[operation] = self.calls.get(operation, 0) + count
        self.calls = dict(sorted(self.calls.items()))
        self.items_read += other.items_read
        self.items_written += other.items_written
        self.read_units += other.read_units
        self.write_units += other.write_units
        self.reported_units += other.reported_units

    def per(self, count: int) -> Cost:
        """This cost divided by ``count`` (per key, per round)."""
        return Cost(
            {operation: calls / count for operation, calls in self.calls.items()},
            self.items_read / count,
            self.items_written / count,
            self.read_units / count,
            self.write_units / count,
            self.reported_units / count,
        )

    def total_calls(self) -> float:
        """Every call, whatever its operation."""
        return sum(self.calls.values())


@dataclass
class Answer:
    """One way of answering the month's statement: what one answer cost, and each round's milliseconds."""

    name: str
    requests: int  # API requests per answer
    cost: Cost  # per answer
    milliseconds: list[float]
    fold_milliseconds: list[float] = field(default_factory=list)  # the client's fold, within milliseconds

    def median(self) -> float:
        """The median round's milliseconds."""
        return statistics.median(self.milliseconds)


@dataclass
class CloserRun:
    """One run of the closer over the keys given."""

    name: str
    through: str
    keys: int
    written: int
    present: int
    seconds: float
    cost: Cost


@dataclass
class KeyScan:
    """The summary table's key scan every closer run starts with."""

    keys: int  # every key the table holds, ours and the other benchmarks'
    seconds: float
    read_capacity: int  # the summary table's provisioned read units (0: on demand)
    cost: Cost


@dataclass
class HistoryFigures:
    """Everything bench.history measured in one run."""

    rows: int
    accounts: int
    closed: int  # the keys of the closer's runs
    details_items: int  # what the details table held during those runs: the local account's Queries read them all
    month: str
    answers: list[Answer]
    month_close: CloserRun  # the closer over the statement's account: the month's days and the month
    scan: KeyScan
    runs: list[CloserRun]
    measured_by: str = "make bench-report"  # with the rest of the report, or apart (main's --record)


def read_units(sizes: Sequence[int], consistent: bool) -> float:
    """Read units of one GetItem, Query or Scan call that read items of these sizes (at least one unit's worth
    when it read nothing), half for an eventually consistent read."""
    return max(1, math.ceil(sum(sizes) / READ_UNIT_BYTES)) * (1.0 if consistent else 0.5)


def write_units(size: int) -> int:
    """Write units of one item write of ``size`` bytes."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def priced(operation: str, params: Mapping[str, Any], parsed: Mapping[str, Any], full_sizes: Mapping[str, int]) -> Cost:
    """One call's cost from its request and its answer.

    ``full_sizes`` holds a table's item size where a Scan or Query projected its items: DynamoDB charges the
    whole items read, which the answer does not show. Items a filter dropped (``ScannedCount`` over ``Count``)
    are priced at the size of those returned, or of ``full_sizes``. An UpdateItem is priced at its key and the
    values it sets (the closer's updates set one number on a small item)."""
    cost = Cost({operation: 1})
    reported = parsed.get("ConsumedCapacity")
    cost.reported_units = float(reported.get("CapacityUnits", 0)) if isinstance(reported, Mapping) else 0.0
    consistent = bool(params.get("ConsistentRead")) and "IndexName" not in params
    if operation == "GetItem":
        item = parsed.get("Item")
        cost.items_read = 1 if item else 0
        cost.read_units = read_units([item_size(item)] if item else [], consistent)
    elif operation in ("Query", "Scan"):
        items = parsed.get("Items", [])
        scanned = int(parsed.get("ScannedCount", len(items)))
        full = full_sizes.get(str(params.get("TableName")))
        if full is not None and "ProjectionExpression" in params:
            sizes = [full] * scanned
        else:
            sizes = [item_size(i) for i in items]
            dropped = scanned - len(items)
            each = full if full is not None else (round(statistics.mean(sizes)) if sizes else 0)
            sizes += [each] * dropped
        cost.items_read = scanned
        cost.read_units = read_units(sizes, consistent)
    elif operation == "PutItem":
        cost.items_written = 1
        cost.write_units = write_units(item_size(params["Item"]))
    elif operation == "UpdateItem":
        cost.items_written = 1
        cost.write_units = write_units(item_size({**params["Key"], **params.get("ExpressionAttributeValues", {})}))
    return cost


_CAPACITY = {"GetItem", "Query", "Scan", "PutItem", "UpdateItem"}  # the calls that can report ConsumedCapacity


class CostMeter:
    """Counts a DynamoDB client's calls and prices each (``priced``), through botocore's event hooks: the
    closer's adapter runs unchanged. Each call is asked for ``ReturnConsumedCapacity``, which AWS answers
    with its own figure (the local account with a constant)."""

    def __init__(self, client: Any, full_sizes: Mapping[str, int] | None = None) -> None:
        self.full_sizes = dict(full_sizes or {})
        self._cost = Cost()
        self._lock = threading.Lock()
        client.meta.events.register("before-parameter-build.dynamodb", self._asked)
        client.meta.events.register("after-call.dynamodb", self._answered)

    def _asked(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name in _CAPACITY:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")
        context["bench_history_params"] = dict(params)

    def _answered(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        cost = priced(model.name, context.get("bench_history_params", {}), parsed, self.full_sizes)
        with self._lock:
            self._cost.add(cost)

    def take(self) -> Cost:
        """The cost counted since the last take, and start again."""
        with self._lock:
            taken, self._cost = self._cost, Cost()
        return taken


@contextmanager
def served_queries(table: str) -> Iterator[Cost]:
    """The Queries the local account's DynamoDB serves on ``table`` meanwhile, from any caller (the API's
    integrations included), priced by the items each read. The local account runs moto in this process."""
    from moto.dynamodb import models

    backend = models.DynamoDBBackend
    original = backend.query
    cost = Cost()
    lock = threading.Lock()

    def counted(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        answer = original(self, table_name, *args, **kwargs)
        if table_name == table:
            items, scanned, _ = answer
            parsed = {"Items": [i.to_json()["Attributes"] for i in items], "ScannedCount": scanned}
            params = {"TableName": table_name, "ConsistentRead": kwargs.get("consistent_read", False)}
            if kwargs.get("index_name"):
                params["IndexName"] = kwargs["index_name"]
            one = priced("Query", params, parsed, {})
            with lock:
                cost.add(one)
        return answer

    backend.query = counted  # type: ignore[method-assign]
    try:
        yield cost
    finally:
        backend.query = original  # type: ignore[method-assign]


def month_of_before(today: date) -> tuple[date, date]:
    """The first and last days of the calendar month before ``today``'s."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def month_rows(account: str, first: date, last: date, rows: int) -> list[dict[str, Any]]:
    """``rows`` rows of ``account`` booked evenly over ``first`` to ``last``: 3 in 4 credits of 1.25, the rest
    debits of 0.40."""
    start, span = day_start_ms(first), day_start_ms(last + timedelta(days=1)) - day_start_ms(first)
    made = []
    for i in range(rows):
        kind, amount = ("debit", "0.40") if i % 4 == 3 else ("credit", "1.25")
        made.append(booked_row(account, CURRENCY, kind, amount, at_ms=start + i * span // rows, number=i))
    return made


def folded_month(account: str, first: date, last: date, listed: Iterable[Mapping[str, Any]]) -> Statement:
    """The statement of ``first`` to ``last`` as a client makes it from the listing of those days: the rows
    folded per booking day, from an opening of 0 (the account has no row before ``first``)."""
    booked = booked_by_day((row_of_listing(account, t) for t in listed), CURRENCY)
    return statement(close_days(account, CURRENCY, None, booked=booked, first=first, last=last))


def write_rows(dynamodb: Any, table: str, rows: Sequence[dict[str, Any]], say: Callable[[str], None]) -> None:
    """Write ``rows`` into ``table`` with BatchWriteItem from WRITERS threads, unprocessed items again."""
    batches = [rows[start : start + BATCH] for start in range(0, len(rows), BATCH)]
    done = [0]
    lock = threading.Lock()
    step = max(1, len(batches) // 5)

    def write(batch: Sequence[dict[str, Any]]) -> None:
        request: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        while request:
            request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        with lock:
            done[0] += 1
            if done[0] % step == 0:
                say(f"history: {min(len(rows), done[0] * BATCH):,} of {len(rows):,} rows written")

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        list(pool.map(write, batches))


def wait_folded(
    dynamodb: Any, table: str, counts: Mapping[str, int], say: Callable[[str], None], limit: float = FOLD_LIMIT
) -> None:
    """Wait until each account's summary counts its rows (the closer finds its keys in the summary table, and
    nothing else is measured while the projection is busy)."""
    keys = [{"accountId": {"S": a}, "currency": {"S": CURRENCY}} for a in counts]
    deadline, shown = time.monotonic() + limit, -1
    while True:
        folded = 0
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {table: {"Keys": keys[start : start + 100], "ConsistentRead": True}}
            while request:
                answer = dynamodb.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(table, []):
                    folded += stored_totals(item).count == counts[item["accountId"]["S"]]  # none: not yet
                request = answer.get("UnprocessedKeys") or {}
        if folded == len(keys):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {folded:,} of {len(keys):,} summaries folded their rows after {limit:.0f} s")
        if folded != shown:
            say(f"history: {folded:,} of {len(keys):,} summaries folded so far")
            shown = folded
        time.sleep(5)  # polling the projection, which has no event to wait on


def run_closer(
    store: Any, meter: CostMeter, name: str, through: date, *, keys: list[Key], written: int, say: Callable[[str], None]
) -> CloserRun:
    """One run of the closer over ``keys`` through ``through``: every key closed without a refusal, ``written``
    closes written (another closer at work meanwhile would show here, not in the figures)."""
    done = [0]
    step = max(1, len(keys) // 5)

    def tick(_: KeyClosed) -> None:
        done[0] += 1
        if done[0] % step == 0 and len(keys) >= 100:
            say(f"history: closer, {name}: {done[0]:,} of {len(keys):,} keys")

    meter.take()
    started = time.perf_counter()
    run: ClosedRun = close_all(store, through, keys, progress=tick)
    seconds = time.perf_counter() - started
    if run.differs or run.failed or run.written != written:
        raise RuntimeError(f"closer, {name}: {run.written} of {written} written; {(run.differs + run.failed)[:3]}")
    return CloserRun(name, through.isoformat(), run.keys, run.written, run.present, seconds, meter.take())


@dataclass(frozen=True)
class StatedMonth:
    """The statement's account and month, asked through ``client``, and the statement its rows make."""

    client: LedgerClient
    account: str
    first: date
    last: date
    want: Statement


def ask_statement(month: StatedMonth, rounds: int, table: str) -> Answer:
    """The month's statement through the API, ``rounds`` times; each answer must be ``want``'s numbers."""
    times: list[float] = []
    want, query = month.want, f"currency={CURRENCY}&month={month.first:%Y-%m}"
    with served_queries(table) as cost:
        for _ in range(rounds):
            started = time.perf_counter()
            answer = month.client.statement(month.account, query)
            times.append((time.perf_counter() - started) * 1000)
            body = answer.body if answer.status == 200 else {}
            got = [Decimal(body.get(k, "NaN")) for k in ("opening", "closing")]
            if got != [want.opening, want.closing] or len(body.get("days", [])) != len(want.lines):
                raise RuntimeError(f"statement {query}: {answer.status} {answer.text[:300]}")
    return Answer("the API's statement (the closes)", 1, cost.per(rounds), times)


def list_month(month: StatedMonth) -> tuple[int, list[dict[str, Any]]]:
    """Every page of the month's listing through the API, oldest first: the pages and the transactions."""
    end = day_start_ms(month.last + timedelta(days=1)) - 1
    query = f"from={day_start_ms(month.first)}&to={end}&order=oldest&limit={PAGE}"
    listed: list[dict[str, Any]] = []
    pages, token = 0, ""
    while True:
        page = month.client.transactions(month.account, "&".join(filter(None, [query, token and f"nextToken={token}"])))
        if page.status != 200:
            raise RuntimeError(f"listing {query}: {page.status} {page.text[:300]}")
        pages += 1
        listed += page.body["transactions"]
        token = page.body["nextToken"] or ""
        if not token:
            return pages, listed


def list_and_fold(month: StatedMonth, rounds: int, table: str) -> Answer:
    """The month listed through the API and folded on the client, ``rounds`` times; each fold must make ``want``."""
    times: list[float] = []
    folds: list[float] = []
    pages, want = 0, month.want
    with served_queries(table) as cost:
        for _ in range(rounds):
            started = time.perf_counter()
            pages, listed = list_month(month)
            folding = time.perf_counter()
            made = folded_month(month.account, month.first, month.last, listed)
            ended = time.perf_counter()
            times.append((ended - started) * 1000)
            folds.append((ended - folding) * 1000)
            if (made.opening, made.closing, made.totals) != (want.opening, want.closing, want.totals):
                raise RuntimeError(f"the client's fold of {month.first:%Y-%m} made {made}, not {want}")
    return Answer("the listing folded on the client", pages, cost.per(rounds), times, folds)


def measure_statement(
    account: LocalAccount, outputs: dict[str, Any], sizes: HistorySizes, say: Callable[[str], None]
) -> tuple[str, list[Answer], CloserRun]:
    """Part 1: one account's month of rows, closed, then its statement asked both ways."""
    dynamodb = boto3.client("dynamodb")
    first, last = month_of_before(datetime.now(UTC).date())
    month = f"{first:%Y-%m}"
    holder = f"history-{uuid.uuid4().hex[:6]}"
    rows = month_rows(holder, first, last, sizes.rows)
    say(f"history: writing {sizes.rows:,} rows of one account booked over {month}")
    write_rows(dynamodb, outputs["details_table"]["name"], rows, say)
    wait_folded(dynamodb, outputs["summary_table"]["name"], {holder: sizes.rows}, say)
    meter = CostMeter(dynamodb)
    store = history_store(dynamodb, outputs, lambda: int(time.time() * 1000))
    say(f"history: closing {month} for that account (its days, then the month)")
    key, closes = (holder, CURRENCY), (last - first).days + 2  # the month's days and the month
    closed = run_closer(store, meter, f"{month}, one account", last, keys=[key], written=closes, say=say)
    want = statement(close_days(holder, CURRENCY, None, booked=booked_by_day(rows, CURRENCY), first=first, last=last))
    stated = StatedMonth(LedgerClient(account.api_base(outputs), account.region), holder, first, last, want)
    say(f"history: the statement of {month} through the API, {sizes.rounds} times")
    api = ask_statement(stated, sizes.rounds, outputs["history_table"]["name"])
    say(_answer_line(api))
    say(f"history: {month} listed through the API and folded on the client, {sizes.listing_rounds} time(s)")
    fold = list_and_fold(stated, sizes.listing_rounds, outputs["details_table"]["name"])
    say(_answer_line(fold))
    return month, [api, fold], closed


def summary_item_size(dynamodb: Any, table: str, account: str) -> int:
    """The size of one of our summary items (all alike): what a Scan of the summary table reads per item."""
    item = dynamodb.get_item(
        TableName=table, Key={"accountId": {"S": account}, "currency": {"S": CURRENCY}}, ConsistentRead=True
    )["Item"]
    return item_size(item)


def measure_closer(
    outputs: dict[str, Any], sizes: HistorySizes, say: Callable[[str], None]
) -> tuple[KeyScan, list[CloserRun], int]:
    """Part 2: ``accounts`` accounts with one row on each of two days, the key scan, then ``closed`` of them closed
    three times; and the details table's item count meanwhile."""
    dynamodb = boto3.client("dynamodb")
    first, _ = month_of_before(datetime.now(UTC).date())
    day_one, day_two = first.replace(day=FIRST_DAY), first.replace(day=FIRST_DAY + 1)
    tag = uuid.uuid4().hex[:6]
    names = [f"hc-{tag}-{i:05d}" for i in range(sizes.accounts)]
    rows = [
        booked_row(name, CURRENCY, "credit", "1.00", at_ms=day_start_ms(day) + 43_200_000 + i, number=n)
        for i, name in enumerate(names)
        for n, day in enumerate((day_one, day_two))
    ]
    say(f"history: writing {len(rows):,} rows: {sizes.accounts:,} accounts, one row on {day_one} and on {day_two}")
    write_rows(dynamodb, outputs["details_table"]["name"], rows, say)
    summary = outputs["summary_table"]["name"]
    wait_folded(dynamodb, summary, dict.fromkeys(names, 2), say)
    meter = CostMeter(dynamodb, {summary: summary_item_size(dynamodb, summary, names[0])})
    store = history_store(dynamodb, outputs, lambda: int(time.time() * 1000))
    capacity = dynamodb.describe_table(TableName=summary)["Table"].get("ProvisionedThroughput", {})
    say("history: the closer's key scan of the summary table")
    meter.take()
    started = time.perf_counter()
    found = list(store.keys())
    scan = KeyScan(len(found), time.perf_counter() - started, capacity.get("ReadCapacityUnits", 0), meter.take())
    say(_scan_line(scan))
    ours = sorted(set(found) & {(name, CURRENCY) for name in names})
    if len(ours) != len(names):
        raise RuntimeError(f"the key scan found {len(ours):,} of our {len(names):,} keys")
    sample = ours[:: max(1, len(ours) // sizes.closed)][: sizes.closed]
    details = dynamodb.describe_table(TableName=outputs["details_table"]["name"])["Table"]["ItemCount"]
    runs = []
    for name, through, written in (
        ("first close", day_one, len(sample)),
        ("one more day", day_two, len(sample)),
        ("nothing to close", day_two, 0),
    ):
        say(f"history: closer, {name}: {len(sample):,} of the {len(ours):,} keys through {through}")
        runs.append(run_closer(store, meter, name, through, keys=sample, written=written, say=say))
        say(_run_line(runs[-1]))
    return scan, runs, int(details)


_SCHEDULE_FIELDS = (
    "Name",
    "GroupName",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "EndDate",
    "Description",
    "Target",
    "FlexibleTimeWindow",
    "KmsKeyArn",
    "ActionAfterCompletion",
)


@contextmanager
def schedules_paused(say: Callable[[str], None]) -> Iterator[None]:
    """The account's enabled EventBridge Scheduler schedules (a scheduled closer's, where the stack has one)
    disabled meanwhile, so that only the measured runs close; enabled again afterwards."""
    scheduler = boto3.client("scheduler")
    paused = [
        scheduler.get_schedule(Name=one["Name"], GroupName=one["GroupName"])
        for page in scheduler.get_paginator("list_schedules").paginate(State="ENABLED")
        for one in page["Schedules"]
    ]
    for schedule in paused:
        say(f"history: schedule {schedule['Name']} disabled while the closer is measured")
        scheduler.update_schedule(**{k: schedule[k] for k in _SCHEDULE_FIELDS if k in schedule}, State="DISABLED")
    try:
        yield
    finally:
        for schedule in paused:
            scheduler.update_schedule(**{k: schedule[k] for k in _SCHEDULE_FIELDS if k in schedule}, State="ENABLED")


def measure_history(
    account: LocalAccount, stack: Stack, say: Callable[[str], None], sizes: HistorySizes = HistorySizes()
) -> HistoryFigures:
    """Both parts on the stack as last applied (or pattern 1 on a fresh one), no faults."""
    fault_plan.ACTIVE = fault_plan.Faults()
    if stack.pattern is None:
        say("history: terraform apply (pattern 1)")
        outputs = stack.apply(1)
    else:
        outputs = stack.outputs()
    with schedules_paused(say):
        month, answers, month_close = measure_statement(account, outputs, sizes, say)
        scan, runs, details_items = measure_closer(outputs, sizes, say)
    return HistoryFigures(
        sizes.rows,
        sizes.accounts,
        runs[0].keys,
        details_items,
        month,
        answers,
        month_close,
        scan,
        runs,
    )


def _answer_line(one: Answer) -> str:
    cost = one.cost
    return (
        f"history, {one.name}: {one.requests} request(s), {cost.total_calls():g} Query(s), "
        f"{cost.items_read:,.0f} items read, {cost.read_units:,.1f} read units, median {one.median():.1f} ms"
    )


def _scan_line(scan: KeyScan) -> str:
    return (
        f"history, key scan: {scan.keys:,} keys in {scan.seconds:.1f} s, {scan.cost.total_calls():g} pages, "
        f"{scan.cost.read_units:,.1f} read units ({scan.cost.reported_units:,.1f} as the local account reports them)"
    )


def _run_line(run: CloserRun) -> str:
    each = run.cost.per(run.keys)
    return (
        f"history, closer {run.name}: {run.keys:,} keys in {run.seconds:.1f} s, {run.written:,} written; per key "
        f"{each.total_calls():.2f} calls, {each.read_units:.2f} read units, {each.write_units:.2f} write units"
    )


def _cost(saved: dict[str, Any]) -> Cost:
    return Cost(**saved)


def _run(saved: dict[str, Any]) -> CloserRun:
    return CloserRun(**{**saved, "cost": _cost(saved["cost"])})


def from_json(saved: dict[str, Any]) -> HistoryFigures:
    """The figures as bench-report saved them in benchmark.json."""
    return HistoryFigures(
        saved["rows"],
        saved["accounts"],
        saved["closed"],
        saved["details_items"],
        saved["month"],
        [Answer(**{**one, "cost": _cost(one["cost"])}) for one in saved["answers"]],
        _run(saved["month_close"]),
        KeyScan(**{**saved["scan"], "cost": _cost(saved["scan"]["cost"])}),
        [_run(one) for one in saved["runs"]],
        saved.get("measured_by", "make bench-report"),
    )


def main(argv: list[str] | None = None) -> int:
    """Measure the history's figures alone, on a fresh local account, and print them as JSON."""
    parser = argparse.ArgumentParser(description="a month's statement against the client's fold; the closer's cost")
    parser.add_argument("--quick", action="store_true", help="a few hundred rows and a few dozen accounts")
    parser.add_argument("--accounts", type=int, help="accounts with rows and summaries (default: 10,000)")
    parser.add_argument("--closed", type=int, help="of them, the keys the measured runs close (default: all)")
    add_record_option(parser)
    args = parser.parse_args(argv)
    sizes = QUICK_HISTORY if args.quick else HistorySizes()
    accounts = args.accounts or sizes.accounts
    sizes = replace(sizes, accounts=accounts, closed=min(args.closed or sizes.closed, accounts))
    check_record(parser, args.record)
    figures = measure_alone("history", partial(measure_history, sizes=sizes))
    print(json.dumps(asdict(figures), indent=1))
    if args.record:
        record_apart(args.record, "history", figures, " ".join(["python -m bench.history", *(argv or sys.argv[1:])]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
