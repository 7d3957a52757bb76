"""``ledger-ops close``, ``statement`` and ``balance-at``, and reconcile's check of the closes (docs/history.md).

The closes are written by the same code as the scheduled closer (``ledger_aggregator.closer``), up to the
last day sealed by DynamoDB's clock (``ServerClock``): an operator's clock that runs ahead must not close
a day that can still gain rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger_aggregator.adapters.history import DynamoHistory, HistoryTables
from ledger_aggregator.closer import ClosedRun, KeyClosed, close_all
from ledger_aggregator.domain import ZERO, Key, Totals
from ledger_aggregator.history import (
    Close,
    HistoryError,
    balance_at,
    booked_by_day,
    check_sealed,
    close_problems,
    day_of,
    day_start_ms,
    key_of_row,
    recorded_ms,
    sealed_through,
    statement,
)
from ledger_aggregator.history_item import FIRST_BOOKED, close_of, is_first_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def history_store(client: DynamoDBClient, outputs: Mapping[str, Any], now_ms: Callable[[], int]) -> DynamoHistory:
    """The closer's store on a deployed stack, from its Terraform outputs."""
    details = outputs["details_table"]
    tables = HistoryTables(
        details["name"], details["index_name"], outputs["summary_table"]["name"], outputs["history_table"]["name"]
    )
    return DynamoHistory(client, tables, now_ms)


def last_sealed(outputs: Mapping[str, Any], now_ms: int) -> date:
    """The last day sealed at ``now_ms`` by the stack's margin (Terraform's history.seal_seconds)."""
    return sealed_through(now_ms, int(outputs["history"]["seal_seconds"]) * 1000)


def run_close(
    store: DynamoHistory, through: date, keys: Iterable[Key] | None, tick: Callable[[KeyClosed], None]
) -> tuple[ClosedRun, int]:
    """Close every key (or the keys given) up to ``through``; the run and the exit code (1 when a close differs
    or a key failed: work left undone, which the next run takes up)."""
    run = close_all(store, through, keys, progress=tick)
    for problem in run.differs:
        print(f"close: refused: {problem}")
    for failure in run.failed:
        print(f"close: failed: {failure}")
    print(
        f"close: through {through}: {run.keys} key(s), {run.written} close(s) written, "
        f"{run.present} already there, {len(run.differs)} refused, {len(run.failed)} failed (run again)"
    )
    return run, 1 if run.differs or run.failed else 0


def snapshot_differences(rows: Iterable[Mapping[str, Any]], items: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every problem of the stored closes against the rows' booked days, one line each.

    Also: a valid row of a key with closes that the summaries count but that is booked on no day (its
    ``recordedAt`` missing or not whole milliseconds), and a key's first-row item that is not its first
    valid row's time.
    """
    closes: dict[Key, list[Close]] = {}
    firsts: dict[Key, int] = {}
    found: list[str] = []
    for item in items:
        if is_first_item(item):
            if FIRST_BOOKED in item:  # else only searchedThrough: no first row found yet
                firsts[(item["accountId"]["S"], item["period"]["S"][:-1])] = int(item[FIRST_BOOKED]["N"])
            continue
        try:
            close = close_of(item)
        except HistoryError as error:
            found.append(f"malformed close: {error}")
            continue
        closes.setdefault((close.account_id, close.currency), []).append(close)
    by_key: dict[Key, list[Mapping[str, Any]]] = {}
    for row in rows:
        key = key_of_row(row)
        if key is not None:
            by_key.setdefault(key, []).append(row)
    for key in sorted(closes):
        for row in by_key.get(key, []):
            if recorded_ms(row) is None:
                found.append(
                    f"{'/'.join(key)} row {row.get('transactionId', {}).get('S')}: counted by the summary but "
                    "booked on no day (recordedAt missing or not whole milliseconds)"
                )
    for key, stored in sorted(closes.items()):
        booked = booked_by_day(by_key.get(key, []), key[1])
        found += [f"{'/'.join(key)} {p}" for p in close_problems(booked, stored)]
    for key, at in sorted(firsts.items()):
        times = [t for t in map(recorded_ms, by_key.get(key, [])) if t is not None]
        if not times or min(times) != at:
            found.append(f"{'/'.join(key)}: firstBookedAt {at} is not its first valid row's recordedAt")
    return found


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` day; ValueError naming it when it is not one (2026-02-30, 2026-W45-1)."""
    try:
        if not _DAY.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a day (YYYY-MM-DD)") from None


def parse_month(text: str) -> tuple[date, date]:
    """A ``YYYY-MM`` month as its first and last days; ValueError naming it when it is not one."""
    try:
        first = parse_day(f"{text}-01") if re.fullmatch(r"[0-9]{4}-[0-9]{2}", text, re.ASCII) else None
    except ValueError:
        first = None
    if first is None:
        raise ValueError(f"{text!r} is not a month (YYYY-MM)")
    following = (first + timedelta(days=31)).replace(day=1)
    return first, following - timedelta(days=1)


def parse_instant(text: str) -> int:
    """Epoch milliseconds, or an ISO-8601 UTC time (``...Z``), as epoch milliseconds (integer arithmetic only)."""
    if text.isdigit():
        return int(text)
    if not text.endswith("Z"):
        raise ValueError(f"{text!r} is neither epoch milliseconds nor an ISO-8601 UTC time ending in Z")
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00")
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO-8601 UTC time") from None
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _closed_through(store: DynamoHistory, key: Key) -> str:
    last = store.last_day(key)
    return f"closed through {last.period}" if last else "not closed on any day"


def print_statement(store: DynamoHistory, key: Key, first: date, last: date, sealed: date) -> int:
    """Print a statement of closed days; 1 when a day of the range is not closed (nothing is guessed).

    Days before the key's first booked day have no close and a balance of zero: a range that starts (or
    lies wholly) before it is stated from there, once the days after it are closed.
    """
    label = "/".join(key)
    latest = store.last_day(key)
    if latest is None or latest.day < last:
        print(f"statement: {label} is {_closed_through(store, key)}: {first} to {last} cannot be stated yet")
        return 1
    first_booked = store.first_booked(key, day_start_ms(sealed + timedelta(days=1)) - 1)
    start = max(first, day_of(first_booked)) if first_booked is not None else first
    closes = store.closes_between(key, start, last) if start <= last else []
    if len(closes) != max(0, (last - start).days + 1):
        print(f"statement: {label} has {len(closes)} close(s) from {start} to {last}: the closes have a gap")
        return 1
    if not closes:
        print(f"{first} to {last}: {_money(ZERO, Totals(), ZERO)} (no row was booked before {last})")
        return 0
    made = statement(closes)
    for line in made.lines:
        print(f"{line.period}  {_money(line.opening, line.totals, line.closing)}")
    print(f"{first} to {last}: {_money(made.opening, made.totals, made.closing)}")
    return 0


def print_balance_at(store: DynamoHistory, key: Key, instant_ms: int, now_ms: int, seal_ms: int) -> int:
    """Print the balance at an instant; 1 when its day before is not closed or the instant is not yet sealed."""
    try:
        check_sealed(instant_ms, now_ms, seal_ms)
    except HistoryError as refused:
        print(f"balance-at: {refused}")
        return 1
    day = day_of(instant_ms)
    before = day - timedelta(days=1)
    first = store.first_booked(key, instant_ms)  # sealed: no row can still be booked before it
    close = None
    if first is not None and day_of(first) <= before:  # the key had rows before the instant's day
        closes = store.closes_between(key, before, before)
        if not closes:
            print(f"balance-at: {'/'.join(key)} has no close of {before}: it is {_closed_through(store, key)}")
            return 1
        close = closes[0]
    rows = store.rows(key[0], day_start_ms(day), instant_ms)
    print(f"{'/'.join(key)} at {instant_ms}: {balance_at(close, rows, key[1], instant_ms)}")
    return 0


def _money(opening: Decimal, totals: Totals, closing: Decimal) -> str:
    t = totals
    return f"opening {opening}  credits {t.credits}  debits {t.debits}  count {t.count}  closing {closing}"
