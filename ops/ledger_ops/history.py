"""``ledger-ops close``, ``statement`` and ``balance-at``, and reconcile's check of the closes (docs/history.md).

The closes are written by the same code as the scheduled closer (``ledger_aggregator.closer``), up to the
last day sealed by DynamoDB's clock (``ServerClock``): an operator's clock that runs ahead must not close
a day that can still gain rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ledger_aggregator.adapters.history import DynamoHistory, HistoryTables
from ledger_aggregator.closer import ClosedRun, KeyClosed, close_all
from ledger_aggregator.domain import Key, Totals
from ledger_aggregator.history import (
    Close,
    HistoryError,
    balance_at,
    booked_by_day,
    close_problems,
    day_of,
    day_start_ms,
    sealed_through,
    statement,
)
from ledger_aggregator.history_item import close_of

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
    """Close every key (or the keys given) up to ``through``; the run and the exit code (1 when a close differs)."""
    run = close_all(store, through, keys, progress=tick)
    for problem in run.differs:
        print(f"close: {problem}")
    print(
        f"close: through {through}: {run.keys} key(s), {run.written} close(s) written, "
        f"{run.present} already there, {len(run.differs)} refused"
    )
    return run, 1 if run.differs else 0


def snapshot_differences(rows: Iterable[Mapping[str, Any]], items: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every problem of the stored closes against the rows' booked days, one line each."""
    closes: dict[Key, list[Close]] = {}
    found: list[str] = []
    for item in items:
        try:
            close = close_of(item)
        except HistoryError as error:
            found.append(f"malformed close: {error}")
            continue
        closes.setdefault((close.account_id, close.currency), []).append(close)
    by_account: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        account = row.get("accountId", {}).get("S")
        if isinstance(account, str):
            by_account.setdefault(account, []).append(row)
    for (account, currency), stored in sorted(closes.items()):
        booked = booked_by_day(by_account.get(account, []), currency)
        found += [f"{account}/{currency} {p}" for p in close_problems(booked, stored)]
    return found


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` day; ValueError naming it when it is not a date."""
    try:
        return date.fromisoformat(text) if len(text) == 10 else date.fromisoformat("x")
    except ValueError:
        raise ValueError(f"{text!r} is not a day (YYYY-MM-DD)") from None


def parse_instant(text: str) -> int:
    """Epoch milliseconds, or an ISO-8601 UTC time (``...Z``), as epoch milliseconds."""
    if text.isdigit():
        return int(text)
    if not text.endswith("Z"):
        raise ValueError(f"{text!r} is neither epoch milliseconds nor an ISO-8601 UTC time ending in Z")
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00")
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO-8601 UTC time") from None
    return int(moment.timestamp() * 1000)


def print_statement(store: DynamoHistory, key: Key, first: date, last: date) -> int:
    """Print a statement of closed days; 1 when a day of the range is not closed (nothing is guessed)."""
    closes = [c for c in store.closes_between(key, first, last)]
    wanted = (last - first).days + 1
    if len(closes) != wanted or (closes and closes[0].day != first):
        closed = f"closed from {closes[0].period} to {closes[-1].period}" if closes else "not closed on any of them"
        print(f"statement: {'/'.join(key)} is {closed}: {first} to {last} cannot be stated yet")
        return 1
    made = statement(closes)
    for line in made.lines:
        print(f"{line.period}  {_money(line.opening, line.totals, line.closing)}")
    print(f"{first} to {last}: {_money(made.opening, made.totals, made.closing)}")
    return 0


def print_balance_at(store: DynamoHistory, key: Key, instant_ms: int, now_ms: int, seal_ms: int) -> int:
    """Print the balance at an instant; 1 when its day before is not closed or the instant is not yet sealed."""
    if instant_ms + seal_ms > now_ms:
        print(f"balance-at: {instant_ms} is less than the seal margin ago: rows may still be booked up to it")
        return 1
    day = day_of(instant_ms)
    before = day - timedelta(days=1)
    first = store.first_booked(key)
    close = None
    if first is not None and day_of(first) <= before:  # the key had rows before the instant's day
        closes = store.closes_between(key, before, before)
        if not closes:
            print(f"balance-at: {'/'.join(key)} has no close of {before} yet: run ledger-ops close")
            return 1
        close = closes[0]
    rows = store.rows(key[0], day_start_ms(day), instant_ms)
    print(f"{'/'.join(key)} at {instant_ms}: {balance_at(close, rows, key[1], instant_ms)}")
    return 0


def _money(opening: Decimal, totals: Totals, closing: Decimal) -> str:
    t = totals
    return f"opening {opening}  credits {t.credits}  debits {t.debits}  count {t.count}  closing {closing}"
