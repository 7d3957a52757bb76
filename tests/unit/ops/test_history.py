"""ledger-ops close, statement and balance-at, and reconcile's check of the closes, on moto's tables."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ledger_aggregator.domain import Totals
from ledger_aggregator.history import DAY_MS, Close, day_start_ms
from ledger_aggregator.history_item import close_item
from ledger_ops.__main__ import main
from ledger_ops.clock import ServerClock
from ledger_ops.history import parse_instant
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
    assert number(items.pop("EUR#"), "firstBookedAt") == day_start_ms(OCTOBER_30) + 5, "the key's first row, kept"
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
    assert {k: v for k, v in history_items(booked).items() if k != "EUR#"} == items, "nothing rewritten"
    assert main(["--outputs", path, "--quiet", "reconcile"]) == 0
    assert "0 close difference(s)" in capsys.readouterr().out


def test_statement_and_balance_at_answer_from_the_closes_and_refuse_what_is_not_closed(
    booked: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = outputs()
    month = ["--outputs", path, "statement", "--account", "a", "--currency", "EUR", "--month", "2026-11"]
    assert main(month) == 1, "nothing closed yet"
    assert "a/EUR is not closed on any day: 2026-11-01 to 2026-11-30 cannot be stated yet" in capsys.readouterr().out
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
    assert (
        "a/EUR 2026-11-03: stored opening 8.75 credits 0 debits 0 count 0 closing 8.75, the rows make opening 7.5"
        in out
    )
    assert "3 close difference(s)" in out, "the days after 11-03, which follow from it, are not named"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--month", "2026-13"], "'2026-13' is not a month (YYYY-MM)"),
        (["--from", "2026-W45-1", "--to", "2026-11-09"], "'2026-W45-1' is not a day"),
        (["--month", "2026-11", "--to", "2026-11-09"], "--month takes no --to"),
        (["--from", "2026-02-30", "--to", "2026-03-01"], "'2026-02-30' is not a day"),
        (["--from", "2026-03-02", "--to", "2026-03-01"], "needs --to, on or after it"),
    ],
)
def test_statement_refuses_dates_that_do_not_exist_and_currencies_it_does_not_know(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["statement", "--account", "a", "--currency", "EUR", *arguments])
    assert refused.value.code == 2 and message in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        main(["statement", "--account", "a", "--currency", "eur", "--month", "2026-11"])
    message = "'eur' is not an active ISO 4217 currency code"
    assert refused.value.code == 2 and message in capsys.readouterr().err


def test_close_takes_dynamodbs_clock_when_the_operators_runs_ahead(
    booked: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reviewed: without --account no read came before the seal was computed, so a clock two days ahead
    closed today, which can still gain rows."""
    ahead = 2 * 86_400.0
    monkeypatch.setattr(
        "ledger_ops.__main__.ServerClock", lambda client: ServerClock(client, local=lambda: time.time() + ahead)
    )
    assert main(["--outputs", outputs(), "--quiet", "close"]) == 0
    said = capsys.readouterr().out
    assert (
        f"through {date.today() - timedelta(days=1)}" in said or f"through {date.today() - timedelta(days=2)}" in said
    )
    assert not [p for p in history_items(booked) if p >= f"EUR#{date.today()}"], "today is not closed"


def test_a_failing_key_is_reported_and_the_run_exits_1(
    booked: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def throttled(*_: Any, **__: Any) -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, "Query")

    monkeypatch.setattr("ledger_aggregator.adapters.history.DynamoHistory.rows", throttled)
    assert main(["--outputs", outputs(), "--quiet", "close"]) == 1
    out = capsys.readouterr().out
    assert "close: failed: a/EUR: ClientError" in out and "0 refused, 1 failed (run again)" in out


def test_reconcile_reports_a_valid_row_booked_on_no_day(
    booked: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Reviewed: a row without recordedAt counts in the summary but on no day; reconcile said nothing."""
    path = outputs()
    assert main(["--outputs", path, "--quiet", "close"]) == 0
    row = booked_row("a", "EUR", "credit", "1.00", at_ms=0, number=99)
    del row["recordedAt"]
    booked.put_item(TableName=DETAILS, Item={**row, "occurredAt": {"S": "2026-11-01T00:00:00Z"}})
    capsys.readouterr()
    assert main(["--outputs", path, "--quiet", "reconcile", "--account", "a"]) == 1
    assert "a/EUR row t00099: counted by the summary but booked on no day" in capsys.readouterr().out


def test_a_keys_first_month_is_stated_from_its_first_day(
    booked: Any, outputs: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Reviewed: October, whose first booked day is the 30th, could never be stated."""
    path = outputs()
    assert main(["--outputs", path, "--quiet", "close"]) == 0
    capsys.readouterr()
    october = ["--outputs", path, "statement", "--account", "a", "--currency", "EUR", "--month", "2026-10"]
    assert main(october) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("2026-10-30  opening 0  credits 10.00")
    assert "2026-10-01 to 2026-10-31: opening 0  credits 10.00  debits 2.50  count 2  closing 7.50" in out
    september = ["--outputs", path, "statement", "--account", "a", "--currency", "EUR", "--month", "2026-09"]
    assert main(september) == 0
    assert (
        "opening 0  credits 0  debits 0  count 0  closing 0 (no row was booked before 2026-09-30)"
        in capsys.readouterr().out
    )


def test_parse_instant_is_exact_to_the_millisecond() -> None:
    """Reviewed: the float in timestamp() * 1000 made about 0.6% of instants 1 ms early."""
    assert parse_instant("2004-03-15T07:55:47.472Z") == 1_079_337_347_472
    assert parse_instant("1970-01-01T00:00:00.001Z") == 1
