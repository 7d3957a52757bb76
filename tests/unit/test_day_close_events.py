"""The day-close events' core: one day close written to the history table, its id and its detail."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger_aggregator import balance_events
from ledger_aggregator.currencies import minor_units
from ledger_aggregator.day_close_events import DETAIL_TYPE, SOURCE, day_close_detail, from_history, is_new_close
from ledger_aggregator.domain import Totals
from ledger_aggregator.history import Close, HistoryError
from ledger_aggregator.history_item import close_item, first_key

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "day-close-event.schema.json").read_text())
TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/prod-account-history"


def stored(close: Close) -> dict[str, Any]:
    """The item the closer writes for ``close``, with its numbers as DynamoDB gives them back (normalized:
    "80.50" is stored as 80.5)."""
    item = close_item(close, closed_at_ms=1_796_533_320_680)
    return {
        name: {"N": str(Decimal(value["N"]).normalize())} if "N" in value else value for name, value in item.items()
    }


def day_close(currency: str = "EUR", period: str = "2026-11-05", **numbers: Any) -> Close:
    totals = Totals(
        Decimal(numbers.get("credits", "100.5")), Decimal(numbers.get("debits", "20")), numbers.get("count", 3)
    )
    return Close("acc-1", currency, period, Decimal(numbers.get("opening", "10")), totals)


def test_a_day_close_is_one_event_with_an_id_of_its_key_and_day_and_the_amounts_in_minor_units() -> None:
    assert day_close_detail(stored(day_close()), "prod-ledger") == {
        "eventId": "acc-1:EUR:2026-11-05",
        "deployment": "prod-ledger",
        "accountId": "acc-1",
        "currency": "EUR",
        "day": "2026-11-05",
        "opening": "10.00",
        "credits": "100.50",
        "debits": "20.00",
        "closing": "90.50",
        "transactionCount": 3,
    }


def test_a_day_without_rows_and_a_currency_without_minor_units_are_written_as_the_api_writes_them() -> None:
    quiet = day_close("JPY", "2026-12-31", opening="-5000", credits="0", debits="0", count=0)
    detail = day_close_detail(stored(quiet), "d")
    assert (detail["opening"], detail["credits"], detail["debits"], detail["closing"]) == ("-5000", "0", "0", "-5000")
    assert detail["transactionCount"] == 0
    assert day_close_detail(stored(day_close("KWD", credits="1.5", debits="0")), "d")["credits"] == "1.500"


def test_the_amounts_are_formatted_by_the_balance_events_code() -> None:
    """One owner of how an amount is written: the two events never disagree on the same number."""
    detail = day_close_detail(stored(day_close(opening="7.5")), "d")
    assert detail["opening"] == balance_events.format_amount(Decimal("7.5"), "EUR")


@pytest.mark.parametrize(
    ("item", "why"),
    [
        (stored(Close("acc-1", "EUR", "2026-11", Decimal(0), Totals(Decimal(1), Decimal(0), 1))), "a month close"),
        ({**first_key("acc-1", "EUR"), "firstBookedAt": {"N": "1796533320680"}}, "a key's first-row item"),
        ({k: v for k, v in stored(day_close()).items() if k != "opening"}, "an opening missing"),
        ({**stored(day_close()), "closing": {"N": "1"}}, "a closing that is not opening + credits - debits"),
        (stored(day_close(period="2026-02-30")), "a day that does not exist"),
        (stored(day_close(period="2026-1-05")), "a day not in ISO form"),
        (stored(day_close("XYZ")), "a currency that is not an active ISO 4217 code"),
        ({**stored(day_close()), "accountId": {"S": "acc 1"}}, "an account id the API refuses"),
        ({**stored(day_close()), "transactionCount": {"N": "2.5"}}, "a count that is not whole"),
        ({**stored(day_close()), "transactionCount": {"N": "-1"}}, "a negative count"),
        ({}, "nothing"),
    ],
)
def test_an_item_that_is_not_a_valid_day_close_raises(item: dict[str, Any], why: str) -> None:
    """The Pipe's filter passes day closes only: anything else is a fault, retried then parked in the DLQ."""
    with pytest.raises(HistoryError):
        day_close_detail(item, "d")


def test_a_record_is_the_history_tables_by_its_stream_arn_or_its_table_arn() -> None:
    assert from_history({"eventSourceARN": f"{TABLE}/stream/2026-12-01T00:00:00.000"}, TABLE)
    assert from_history({"eventSourceARN": TABLE}, TABLE)
    summary = "arn:aws:dynamodb:eu-west-1:123456789012:table/prod-account-summary/stream/2026-12-01T00:00:00.000"
    assert not from_history({"eventSourceARN": summary}, TABLE)
    assert not from_history({"eventSourceARN": f"{TABLE}-old/stream/2026-12-01T00:00:00.000"}, TABLE)
    assert not from_history({}, TABLE) and not from_history({"eventSourceARN": None}, TABLE)


def test_only_an_insert_writes_a_close() -> None:
    assert is_new_close({"eventName": "INSERT"})
    assert not is_new_close({"eventName": "MODIFY"}) and not is_new_close({"eventName": "REMOVE"})


def test_the_pipe_publishes_with_the_source_and_detail_type_the_core_owns() -> None:
    module = (ROOT / "modules" / "events" / "main.tf").read_text()
    assert SOURCE == balance_events.SOURCE and f'source      = "{SOURCE}"' in module
    assert f'detail_type = "{DETAIL_TYPE}"' in module
    assert "detail_type = local.day_close.detail_type" in module


DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(
    currency=st.sampled_from(sorted(minor_units())),
    day=DAYS,
    units=st.lists(st.integers(min_value=-(10**13), max_value=10**13), min_size=3, max_size=3),
    count=st.integers(min_value=0, max_value=10**6),
)
def test_every_detail_matches_the_published_schema_and_means_the_close_exactly(
    currency: str, day: date, units: list[int], count: int
) -> None:
    places = minor_units()[currency]
    opening, credits, debits = (Decimal(u).scaleb(-places) for u in units)
    close = Close("acc_9-Z", currency, day.isoformat(), opening, Totals(abs(credits), abs(debits), count))
    detail = day_close_detail(stored(close), "prod")
    jsonschema.validate(detail, SCHEMA)
    assert detail["eventId"] == f"acc_9-Z:{currency}:{day.isoformat()}"
    written = [Decimal(detail[name]) for name in ("opening", "credits", "debits", "closing")]
    assert written == [close.opening, close.totals.credits, close.totals.debits, close.closing]
    assert written[3] == written[0] + written[1] - written[2]
    for name in ("opening", "credits", "debits", "closing"):
        assert ("." not in detail[name]) if places == 0 else len(detail[name].split(".")[1]) == places, detail


@given(day=DAYS)
def test_the_id_of_a_day_is_never_that_of_another_day_or_key(day: date) -> None:
    ids = {
        day_close_detail(stored(Close(a, c, d.isoformat(), Decimal(0), Totals())), "d")["eventId"]
        for a in ("acc-1", "acc-2")
        for c in ("EUR", "JPY")
        for d in (day, day + timedelta(days=1))
    }
    assert len(ids) == 8
