"""The history store on moto: the key scan's pace, the first-row item, and create-only closes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledger_aggregator.adapters.history import FIRST_ROW_PAGE, DynamoHistory, HistoryTables, Pace
from ledger_aggregator.domain import Totals
from ledger_aggregator.history import Close
from ledger_aggregator.ports import Created
from tests.support.aws import DETAILS, DETAILS_INDEX, HISTORY, SUMMARY, put_summary
from tests.support.history import booked_row

TABLES = HistoryTables(DETAILS, DETAILS_INDEX, SUMMARY, HISTORY)


def test_pace_sleeps_only_when_the_reads_run_ahead_of_the_rate() -> None:
    now = [0.0]
    slept: list[float] = []
    pace = Pace(2.5, clock=lambda: now[0], sleep=slept.append)
    pace.spend(1.0)  # 1 unit at t=0: 0.4 s ahead of 2.5 a second
    now[0] = 10.0
    pace.spend(1.0)  # 2 units by t=10: well behind
    assert slept == [0.4]


def test_the_keys_of_a_provisioned_summary_table_are_read_paced_and_whole(ledger_tables: Any) -> None:
    for n in range(60):
        put_summary(ledger_tables, f"acc-{n}", "1", "0", 1)
    store = DynamoHistory(ledger_tables, TABLES)
    assert sorted(store.keys()) == sorted((f"acc-{n}", "EUR") for n in range(60))


def test_the_first_booked_row_is_searched_once_and_kept(ledger_tables: Any) -> None:
    rows = [
        booked_row("a", "USD", "credit", "1", at_ms=1_000, number=1),
        booked_row("a", "EUR", "refund", "1", at_ms=2_000, number=2),  # poison: not the key's first
        booked_row("a", "EUR", "credit", "1", at_ms=3_000, number=3),
    ]
    for row in rows:
        ledger_tables.put_item(TableName=DETAILS, Item=row)
    store = DynamoHistory(ledger_tables, TABLES)
    assert store.first_booked(("a", "EUR"), 10_000) == 3_000
    kept = ledger_tables.get_item(TableName=HISTORY, Key={"accountId": {"S": "a"}, "period": {"S": "EUR#"}})["Item"]
    assert kept["firstBookedAt"] == {"N": "3000"}
    ledger_tables.delete_item(TableName=DETAILS, Key={"accountId": {"S": "a"}, "transactionId": {"S": "t00003"}})
    assert store.first_booked(("a", "EUR"), 10_000) == 3_000, "read from the item, not searched again"
    assert store.first_booked(("a", "JPY"), 10_000) is None
    assert store.last_day(("a", "EUR")) is None, "the first-row item is not a close"


def test_the_first_row_search_reads_a_page_not_the_keys_rows(ledger_tables: Any) -> None:
    """Reviewed (bench/history.py): the search's Query had no Limit, so its first page read up to 1 MB of the
    key's rows, all of a month's 10,000 rows in the benchmark, where it needs the first valid one."""
    rows = [booked_row("a", "USD", "credit", "1", at_ms=1_000, number=0)]  # another currency first
    rows += [booked_row("a", "EUR", "credit", "1", at_ms=2_000 + n, number=n + 1) for n in range(300)]
    for row in rows:
        ledger_tables.put_item(TableName=DETAILS, Item=row)
    read: list[int] = []
    ledger_tables.meta.events.register(
        "after-call.dynamodb.Query", lambda parsed, **_: read.append(parsed["ScannedCount"])
    )
    assert DynamoHistory(ledger_tables, TABLES).first_booked(("a", "EUR"), 10_000) == 2_000
    assert sum(read) <= FIRST_ROW_PAGE, read


def test_a_first_row_after_the_sealed_time_is_neither_answered_nor_kept(ledger_tables: Any) -> None:
    """Reviewed: the search ran up to now, so a row booked after the seal was kept as the key's first, and a
    slower row booked before it, landing later, was never closed."""
    ledger_tables.put_item(TableName=DETAILS, Item=booked_row("a", "EUR", "credit", "1", at_ms=5_000, number=1))
    store = DynamoHistory(ledger_tables, TABLES)
    assert store.first_booked(("a", "EUR"), 4_999) is None
    item = ledger_tables.get_item(TableName=HISTORY, Key={"accountId": {"S": "a"}, "period": {"S": "EUR#"}})["Item"]
    assert item == {"accountId": {"S": "a"}, "period": {"S": "EUR#"}, "searchedThrough": {"N": "4999"}}
    ledger_tables.put_item(TableName=DETAILS, Item=booked_row("a", "EUR", "credit", "1", at_ms=4_000, number=2))
    assert store.first_booked(("a", "EUR"), 9_999) == 5_000, "what was searched is not read again"
    # (a row landing before searchedThrough is what the seal rules out; here it shows the search is not repeated)


def test_a_close_is_created_once_and_compared_after(ledger_tables: Any) -> None:
    store = DynamoHistory(ledger_tables, TABLES)
    close = Close("a", "EUR", "2026-11-02", Decimal("7.50"), Totals(Decimal("1.25"), Decimal(0), 1))
    assert store.create(close) is Created.WRITTEN
    assert store.create(close) is Created.PRESENT
    other = Close("a", "EUR", "2026-11-02", Decimal("7.50"), Totals(Decimal("1.26"), Decimal(0), 1))
    assert store.create(other) is Created.DIFFERS
    assert store.last_day(("a", "EUR")) == close
