"""The pure core: parsing, validation, the change arithmetic and coalescing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger_aggregator.codec import decode, delta_id, encode
from ledger_aggregator.domain import (
    PoisonRecordError,
    Totals,
    canonical_time,
    change_of,
    coalesce,
    parse_amount,
    parse_batch,
)
from tests.support.ledger import Ledger, image


@pytest.mark.parametrize("text", ["0.01", "12", "12.5", "999999999999999", "9999999999999.99"])
def test_valid_amounts_parse_exactly(text: str) -> None:
    assert parse_amount(text) == Decimal(text)


@pytest.mark.parametrize(
    "text", ["abc", "0", "-1", "1.001", "1e400", "NaN", "Infinity", "1000000000000000", "", "0.00"]
)
def test_invalid_amounts_are_poison_naming_the_field(text: str) -> None:
    with pytest.raises(PoisonRecordError) as raised:
        parse_amount(text)
    assert raised.value.field == "amount"


def test_times_are_canonical_so_that_they_sort_as_strings() -> None:
    assert canonical_time("2026-01-02T03:04:05Z") == "2026-01-02T03:04:05.000000Z"
    assert canonical_time("2026-01-02T03:04:05.5Z") == "2026-01-02T03:04:05.500000Z"
    assert canonical_time("2026-01-02T03:04:05.5Z") > canonical_time("2026-01-02T03:04:05.123Z")
    with pytest.raises(PoisonRecordError):
        canonical_time("2026-01-02 03:04:05")


def test_a_row_without_occurred_at_uses_the_recorded_epoch_milliseconds() -> None:
    row = image("a", "t", "credit", "1")
    del row["occurredAt"]
    row["recordedAt"] = {"N": "1767225600123"}
    ledger = Ledger()
    change, problem = change_of(ledger.put(row))
    assert problem is None and change is not None
    assert change.latest_at == "2026-01-01T00:00:00.123000Z"


def test_modify_applies_new_minus_old_and_remove_applies_minus_old() -> None:
    ledger = Ledger()
    ledger.put(image("a", "t", "credit", "10"))
    ledger.put(image("a", "t", "debit", "4"))
    ledger.remove("a", "t")
    changes = parse_batch(ledger.records).changes
    assert [c.totals for c in changes] == [
        Totals(Decimal(10), Decimal(0), 1),
        Totals(Decimal(-10), Decimal(4), 0),
        Totals(Decimal(0), Decimal(-4), -1),
    ]


def test_correcting_a_poison_row_adds_only_the_new_version() -> None:
    ledger = Ledger()
    bad = image("a", "t", "credit", "1")
    bad["amount"] = {"S": "abc"}
    ledger.put(bad)
    ledger.put(image("a", "t", "credit", "3"))
    parsed = parse_batch(ledger.records)
    assert sum((c.totals for c in parsed.changes), Totals()) == Totals(Decimal(3), Decimal(0), 1)
    assert [p.reason for p in parsed.poison] == [
        "NewImage: amount is not of DynamoDB type N",
        "OldImage: amount is not of DynamoDB type N",
    ]


def test_a_record_without_an_account_gives_no_change() -> None:
    change, problem = change_of({"eventID": "e1", "dynamodb": {"Keys": {}, "SequenceNumber": "1"}})
    assert change is None and problem is not None and problem.field == "accountId"


def test_coalescing_makes_one_delta_per_account_in_stream_order() -> None:
    ledger = Ledger()
    for i in range(100):
        ledger.put(image(f"acc-{i % 10}", f"t{i}", "credit", "1.10"))
    deltas = coalesce(parse_batch(ledger.records).changes)
    assert len(deltas) == 10
    assert all(d.totals == Totals(Decimal("11.00"), Decimal(0), 10) for d in deltas)
    assert list(deltas[0].record_ids) == sorted(deltas[0].record_ids)


def test_queue_messages_round_trip_with_exact_decimals_and_a_deterministic_id() -> None:
    ledger = Ledger()
    ledger.put(image("acc-1", "t1", "credit", "0.10"))
    ledger.put(image("acc-1", "t1", "debit", "0.20"))
    (delta,) = coalesce(parse_batch(ledger.records).changes)
    body = encode(delta)
    assert decode(body) == delta
    assert delta_id(decode(body)) == delta_id(delta)
    assert '"0.10"' in body and "0.1," not in body


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"v": 2}',
        '{"v": 1, "accountId": "a b", "changes": [["e", "1", "1", "0", 1, null]]}',
        '{"v": 1, "accountId": "a", "changes": [["e", "1", 1.5, "0", 1, null]]}',
        '{"v": 1, "accountId": "a", "changes": [["e", "1", "NaN", "0", 1, null]]}',
    ],
)
def test_malformed_messages_are_poison(body: str) -> None:
    with pytest.raises(PoisonRecordError):
        decode(body)
