"""The events enrichment's handler on the Pipes' batches: a summary stream's records give balance events, the
history stream's give day-close events, told apart by each record's eventSourceARN (no AWS call)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledger_aggregator.composition import EventsDeps, build_events
from ledger_aggregator.config import EventsSettings
from ledger_aggregator.domain import Totals
from ledger_aggregator.handlers import events
from ledger_aggregator.history import Close, HistoryError
from ledger_aggregator.history_item import close_item, first_key
from tests.support.fakes import FakeContext

HISTORY = "arn:aws:dynamodb:eu-west-1:123456789012:table/unit-account-history"
HISTORY_STREAM = f"{HISTORY}/stream/2026-12-01T00:00:00.000"
SUMMARY_STREAM = "arn:aws:dynamodb:eu-west-1:123456789012:table/unit-account-summary/stream/2026-12-01T00:00:00.000"


def enrich(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    handler = events.make_handler(build_events(EventsSettings("unit-ledger", HISTORY)))
    return handler(records, FakeContext())


def closed(period: str, opening: str = "0", credits: str = "0", debits: str = "0", count: int = 0) -> dict[str, Any]:
    """A history stream record inserting the close of acc-1/EUR over ``period``, as the closer writes it."""
    close = Close("acc-1", "EUR", period, Decimal(opening), Totals(Decimal(credits), Decimal(debits), count))
    return history_record(close_item(close, 1_796_533_320_680))


def history_record(image: dict[str, Any], name: str = "INSERT") -> dict[str, Any]:
    keys = {k: image[k] for k in ("accountId", "period")}
    return {"eventName": name, "eventSourceARN": HISTORY_STREAM, "dynamodb": {"Keys": keys, "NewImage": image}}


def summary_record(revision: int, balance: str) -> dict[str, Any]:
    image = {
        "accountId": {"S": "acc-1"},
        "currency": {"S": "EUR"},
        "balance": {"N": balance},
        "credits": {"N": balance},
        "debits": {"N": "0"},
        "transactionCount": {"N": "1"},
        "revision": {"N": str(revision)},
    }
    return {"eventName": "INSERT", "eventSourceARN": SUMMARY_STREAM, "dynamodb": {"NewImage": image}}


def test_each_day_close_inserted_is_one_day_close_detail_in_the_batchs_order() -> None:
    details = enrich([closed("2026-11-05", "0", "10", "2.5", 2), closed("2026-11-06", "7.5")])
    assert [(d["eventId"], d["opening"], d["closing"], d["transactionCount"]) for d in details] == [
        ("acc-1:EUR:2026-11-05", "0.00", "7.50", 2),
        ("acc-1:EUR:2026-11-06", "7.50", "7.50", 0),
    ]
    assert {d["deployment"] for d in details} == {"unit-ledger"}


def test_summary_records_are_balance_changes_as_before() -> None:
    (detail,) = enrich([summary_record(7, "80.5")])
    assert (detail["eventId"], detail["after"]["balance"]) == ("acc-1:EUR:7", "80.50")


def test_a_record_without_a_source_arn_is_the_summary_streams() -> None:
    record = summary_record(3, "1")
    del record["eventSourceARN"]
    assert [d["eventId"] for d in enrich([record])] == ["acc-1:EUR:3"]


def test_a_close_changed_or_removed_by_hand_publishes_nothing() -> None:
    changed = closed("2026-11-05", "0", "10")
    assert enrich([{**changed, "eventName": "MODIFY"}, {**changed, "eventName": "REMOVE"}]) == []


@pytest.mark.parametrize(
    "record",
    [
        closed("2026-11", "0", "10"),  # a month close: the filter lets none through
        history_record({**first_key("acc-1", "EUR"), "firstBookedAt": {"N": "1796533320680"}}),
        history_record(
            {**close_item(Close("acc-1", "EUR", "2026-11-05", Decimal(1), Totals()), 1), "closing": {"N": "2"}}
        ),
    ],
    ids=["month", "first-row item", "inconsistent"],
)
@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # the batch failed before its metrics
def test_an_inserted_item_that_is_not_a_valid_day_close_fails_the_batch(record: dict[str, Any]) -> None:
    """The Pipe retries the batch, bisecting it, then parks what still fails in its dead-letter queue."""
    with pytest.raises(HistoryError):
        enrich([closed("2026-11-04"), record])


def test_the_handler_is_built_over_its_settings_only() -> None:
    deps = build_events(EventsSettings("d", HISTORY))
    assert deps == EventsDeps(EventsSettings("d", HISTORY))
