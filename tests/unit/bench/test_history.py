"""bench/history.py's pure parts: DynamoDB's unit rules, the cost meter on a closer run, and the client's fold."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from bench.alone import record_apart
from bench.history import (
    Answer,
    CloserRun,
    Cost,
    CostMeter,
    HistoryFigures,
    KeyScan,
    folded_month,
    from_json,
    month_of_before,
    month_rows,
    priced,
    read_units,
    schedules_paused,
    write_units,
)
from bench.listing import item_size
from harness.stack import ROOT
from ledger_aggregator.adapters.history import DynamoHistory, HistoryTables
from ledger_aggregator.closer import close_all
from ledger_aggregator.history import booked_by_day, close_days, day_of, day_start_ms, statement
from tests.support.aws import DETAILS, DETAILS_INDEX, HISTORY, SUMMARY, put_summary
from tests.support.history import booked_row

TABLES = HistoryTables(DETAILS, DETAILS_INDEX, SUMMARY, HISTORY)
ROLE = "arn:aws:iam::123456789012:role/scheduler"


def test_read_units_round_the_items_read_up_to_4_kb_and_halve_an_eventually_consistent_read() -> None:
    assert read_units([], consistent=True) == 1.0, "reading nothing costs the minimum"
    assert read_units([], consistent=False) == 0.5
    assert read_units([4096], consistent=True) == 1.0
    assert read_units([4000, 97], consistent=True) == 2.0, "the sum of a call's items, rounded once"
    assert read_units([100] * 100, consistent=False) == 1.5
    assert (write_units(1), write_units(1024), write_units(1025)) == (1, 1, 2)


def test_a_call_is_priced_from_its_request_and_answer() -> None:
    row = booked_row("a", "EUR", "credit", "1.25", at_ms=1_000, number=1)
    size = item_size(row)
    missing = priced("GetItem", {"ConsistentRead": True}, {}, {})
    assert (missing.calls, missing.items_read, missing.read_units) == ({"GetItem": 1}, 0, 1.0)
    on_index = priced("Query", {"IndexName": "byRecordedAt", "ConsistentRead": True}, {"Items": [row] * 50}, {})
    assert (on_index.items_read, on_index.read_units) == (50, read_units([size] * 50, consistent=False))
    filtered = priced("Query", {"TableName": "t"}, {"Items": [row], "ScannedCount": 41, "Count": 1}, {})
    assert filtered.items_read == 41 and filtered.read_units == read_units([size] * 41, consistent=False)
    scan = {"TableName": "s", "ProjectionExpression": "#a, #c"}
    projected = priced("Scan", scan, {"Items": [{"accountId": {"S": "a"}}] * 25, "ScannedCount": 25}, {"s": 300})
    assert projected.read_units == read_units([300] * 25, consistent=False), "whole items are charged"
    put = priced("PutItem", {"Item": row}, {"ConsumedCapacity": {"CapacityUnits": 1.0}}, {})
    assert (put.items_written, put.write_units, put.reported_units) == (1, 1, 1.0)
    update = priced(
        "UpdateItem", {"Key": {"accountId": {"S": "a"}}, "ExpressionAttributeValues": {":f": {"N": "1"}}}, {}, {}
    )
    assert (update.write_units, update.read_units) == (1, 0.0)
    assert priced("DescribeTable", {}, {}, {}).calls == {"DescribeTable": 1}


def test_costs_add_up_and_divide_per_key() -> None:
    total = Cost()
    total.add(Cost({"Query": 2}, items_read=10, read_units=1.5))
    total.add(Cost({"GetItem": 1, "Query": 1}, items_read=1, read_units=0.5, write_units=2))
    assert total == Cost({"GetItem": 1, "Query": 3}, items_read=11, read_units=2.0, write_units=2)
    assert total.per(2) == Cost({"GetItem": 0.5, "Query": 1.5}, items_read=5.5, read_units=1.0, write_units=1)
    assert total.total_calls() == 4


def test_the_meter_counts_every_call_of_a_closer_run_and_asks_for_the_consumed_capacity(ledger_tables: Any) -> None:
    day = date(2026, 11, 14)
    ledger_tables.put_item(
        TableName=DETAILS, Item=booked_row("a", "EUR", "credit", "1", at_ms=day_start_ms(day) + 5, number=1)
    )
    put_summary(ledger_tables, "a", "1", "0", 1)
    meter = CostMeter(ledger_tables)
    store = DynamoHistory(ledger_tables, TABLES)
    assert list(store.keys()) == [("a", "EUR")]
    meter.take()
    run = close_all(store, day, [("a", "EUR")], workers=1)
    first = meter.take()
    # Its last close (none), its first-row item (absent), the search, the item kept, the day's rows, the close.
    assert (run.written, first.calls) == (1, {"GetItem": 1, "PutItem": 1, "Query": 3, "UpdateItem": 1})
    assert (first.write_units, first.items_written, first.items_read) == (2, 2, 2)
    assert first.reported_units > 0, "ReturnConsumedCapacity was asked for"
    close_all(store, day, [("a", "EUR")], workers=1)
    again = meter.take()  # the hourly run: nothing to write, Queries of the closes (and of that day's rows) only
    assert set(again.calls) == {"Query"} and again.write_units == 0


def listed(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the listing answers it: amounts with the currency's minor unit, recordedAt a number."""
    amount = Decimal(row["amount"]["N"]).quantize(Decimal("0.01"))
    return {
        "transactionId": row["transactionId"]["S"],
        "type": row["type"]["S"],
        "amount": str(amount),
        "currency": row["currency"]["S"],
        "description": None,
        "occurredAt": None,
        "transferId": None,
        "counterpartyAccountId": None,
        "recordedAt": int(row["recordedAt"]["N"]),
    }


def test_the_month_rows_fill_the_month_and_the_client_fold_of_their_listing_makes_the_closes_statement() -> None:
    first, last = month_of_before(date(2026, 3, 10))
    assert (first, last) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_of_before(date(2024, 3, 31))[1] == date(2024, 2, 29)
    assert month_of_before(date(2027, 1, 1)) == (date(2026, 12, 1), date(2026, 12, 31))
    rows = month_rows("a", first, last, 90)
    booked = booked_by_day(rows, "EUR")
    assert (min(booked), max(booked)) == (first, last) and len(booked) == 28
    assert {day_of(int(r["recordedAt"]["N"])).month for r in rows} == {2}
    want = statement(close_days("a", "EUR", None, booked=booked, first=first, last=last))
    assert want.totals.count == 90 and want.closing == Decimal("1.25") * 68 - Decimal("0.40") * 22
    made = folded_month("a", first, last, [listed(r) for r in rows])
    assert (made.opening, made.closing, made.totals, len(made.lines)) == (Decimal(0), want.closing, want.totals, 28)


def test_the_figures_come_back_from_the_saved_json() -> None:
    cost = Cost({"Query": 1.0}, items_read=32, read_units=1.0, reported_units=1.0)
    run = CloserRun("first close", "2026-11-14", 2, 2, 0, 0.5, Cost({"PutItem": 2}, write_units=2))
    figures = HistoryFigures(
        10,
        2,
        2,
        300,
        "2026-11",
        [Answer("api", 1, cost, [1.0, 2.0]), Answer("fold", 1, cost, [3.0], [0.5])],
        run,
        KeyScan(3, 0.1, 5, cost),
        [run],
    )
    assert from_json(asdict(figures)) == figures
    assert figures.answers[0].median() == 1.5
    apart = replace(figures, measured_by="python -m bench.history --record reports (on 2026-12-07)")
    assert from_json(asdict(apart)) == apart


def test_figures_measured_apart_replace_the_reports_and_say_how_they_were_measured(tmp_path: Path) -> None:
    saved = json.loads((ROOT / "reports" / "benchmark.json").read_text())
    (tmp_path / "benchmark.json").write_text(json.dumps(saved))
    figures = replace(from_json(saved["history"]), closed=saved["history"]["accounts"])
    record_apart(tmp_path, "history", figures, "python -m bench.history --record out")
    kept = json.loads((tmp_path / "benchmark.json").read_text())
    assert {k: v for k, v in kept.items() if k != "history"} == {k: v for k, v in saved.items() if k != "history"}
    assert kept["history"]["measured_by"].startswith("python -m bench.history --record out (on ")
    report = (tmp_path / "benchmark.md").read_text()
    assert "Measured apart from the sections above, by `python -m bench.history --record out (on " in report
    assert f"every one of their {figures.closed:,} keys" in report and "would take" not in report


def test_the_accounts_schedules_are_disabled_while_measured_and_enabled_again() -> None:
    with mock_aws():
        scheduler = boto3.client("scheduler")
        target = {"Arn": "arn:aws:lambda:eu-west-1:123456789012:function:closer", "RoleArn": ROLE}
        scheduler.create_schedule(
            Name="closer", ScheduleExpression="cron(5 * * * ? *)", Target=target, FlexibleTimeWindow={"Mode": "OFF"}
        )

        def state() -> str:
            return str(scheduler.get_schedule(Name="closer")["State"])

        with schedules_paused(lambda _: None):
            assert state() == "DISABLED"
        assert state() == "ENABLED"
        assert scheduler.get_schedule(Name="closer")["ScheduleExpression"] == "cron(5 * * * ? *)"
