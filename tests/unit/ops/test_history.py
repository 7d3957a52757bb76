"""ledger-ops close, statement and balance-at, and reconcile's check of the closes, on moto's tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from ledger_aggregator.domain import Totals
from ledger_aggregator.history import DAY_MS, Close, day_start_ms
from ledger_aggregator.history_item import close_item
from ledger_ops.__main__ import main
from tests.support.aws import DETAILS, HISTORY, put_summary
from tests.support.history import booked_row

OCTOBER_30 = date(2026, 10, 30)


def book(dynamodb: Any, rows: list[tuple[str, str, int, int]]) -> None:
    """Rows of account ``a`` in EUR: (type, amount, day offset from 30 October, millisecond of the day)."""
    for number, (kind, amount, offset, ms) in enumerate(rows):
        at = day_start_ms(OCTOBER_30 + timedelta(days=offset)) + ms
        dynamodb.put_item(TableName=DETAILS, Item=booked_row("a", "EUR", kind, amount, at_ms=at, number=number))


def history_items(dynamodb: Any) -> dict[str, dict[str, Any]]:
    items = dynamodb.scan(TableName=HISTORY, ConsistentRead=True)["Items"]
    return {i["period"]["S"]: i for i in items}


def number(item: dict[str, Any], name: str) -> Decimal:
    return Decimal(item[name]["N"])


@pytest.fixture
def booked(dynamodb: Any) -> Any:
    book(dynamodb, [("credit", "10.00", 0, 5), ("debit", "2.50", 0, DAY_MS - 1), ("credit", "1.25", 3, 0)])
    put_summary(dynamodb, "a", "11.25", "2.50", 3, latest="2026-11-02T00:00:00.000000Z")
    return dynamodb


def test_close_writes_every_day_and_month_once_and_a_second_run_nothing(
    booked: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = outputs()
    assert main(["--outputs", path, "--quiet", "close"]) == 0
    first = capsys.readouterr().out
    items = history_items(booked)
    assert number(items["EUR#2026-10-30"], "closing") == Decimal("7.5")
    assert number(items["EUR#2026-10-30"], "transactionCount") == 2
    assert number(items["EUR#2026-10-31"], "opening") == Decimal("7.5")
    assert number(items["EUR#2026-10-31"], "transactionCount") == 0
    assert number(items["EUR#2026-10"], "credits") == 10 and number(items["EUR#2026-10"], "opening") == 0
    assert number(items["EUR#2026-11"], "closing") == Decimal("8.75")
    yesterday = date.today() - timedelta(days=1)
    assert f"EUR#{yesterday}" in items or f"EUR#{yesterday - timedelta(days=1)}" in items, (
        "closed to the last sealed day"
    )
    assert f"EUR#{date.today()}" not in items, "today is not sealed"
    written = int(first.split("close(s) written")[0].rsplit(" ", 2)[-2])
    assert written == len(items)
    assert main(["--outputs", path, "--quiet", "close"]) == 0
    assert ", 0 close(s) written" in capsys.readouterr().out
    assert history_items(booked) == items, "nothing rewritten"
    assert main(["--outputs", path, "--quiet", "reconcile"]) == 0
    assert "0 close difference(s)" in capsys.readouterr().out


def test_statement_and_balance_at_answer_from_the_closes_and_refuse_what_is_not_closed(
    booked: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = outputs()
    month = ["--outputs", path, "statement", "--account", "a", "--currency", "EUR", "--month", "2026-11"]
    assert main(month) == 1, "nothing closed yet"
    assert "not closed on any of them" in capsys.readouterr().out
    assert main(["--outputs", path, "--quiet", "close"]) == 0
    capsys.readouterr()
    assert main(month) == 0
    out = capsys.readouterr().out
    assert "2026-11-02  opening 7.50  credits 1.25  debits 0  count 1  closing 8.75" in out
    assert "2026-11-01 to 2026-11-30: opening 7.50  credits 1.25  debits 0  count 1  closing 8.75" in out
    span = ["--outputs", path, "statement", "--account", "a", "--currency", "EUR", "--from", "2026-10-30", "--to"]
    assert main([*span, "2026-11-02"]) == 0
    assert (
        "2026-10-30 to 2026-11-02: opening 0  credits 11.25  debits 2.50  count 3  closing 8.75"
        in capsys.readouterr().out
    )
    assert main([*span, str(date.today())]) == 1, "today is not closed"
    at = ["--outputs", path, "balance-at", "--account", "a", "--currency", "EUR", "--at"]
    assert main([*at, "2026-10-30T00:00:00.005Z"]) == 0
    assert "a/EUR at 1793318400005: 10.00" in capsys.readouterr().out
    assert main([*at, "2026-10-31T00:00:00.000Z"]) == 0
    assert "a/EUR at 1793404800000: 7.50" in capsys.readouterr().out
    assert main([*at, str(day_start_ms(date.today()) + DAY_MS)]) == 1, "not yet sealed"


def test_reconcile_reports_a_close_that_is_not_its_days_fold(
    booked: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = outputs()
    assert main(["--outputs", path, "--quiet", "close"]) == 0
    forged = Close("a", "EUR", "2026-11-02", Decimal("7.5"), Totals(count=0))
    booked.put_item(TableName=HISTORY, Item=close_item(forged, 0))
    capsys.readouterr()
    assert main(["--outputs", path, "--quiet", "reconcile"]) == 1
    out = capsys.readouterr().out
    assert "a/EUR 2026-11-02: stored opening 7.5 credits 0 debits 0 count 0 closing 7.5" in out
    assert "a/EUR 2026-11: stored opening 7.50 credits 1.25" in out, "and the month no longer sums its days"
    assert "2 close difference(s)" in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--month", "2026-13"], "is not a day"),
        (["--from", "2026-02-30", "--to", "2026-03-01"], "'2026-02-30' is not a day"),
        (["--from", "2026-03-02", "--to", "2026-03-01"], "needs --to, on or after it"),
    ],
)
def test_statement_refuses_dates_that_do_not_exist(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["statement", "--account", "a", "--currency", "EUR", *arguments])
    assert refused.value.code == 2 and message in capsys.readouterr().err
