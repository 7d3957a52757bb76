"""The pure core: parsing, validation, the change arithmetic and coalescing."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from ledger_aggregator.codec import decode, decode_changes, delta_id, encode
from ledger_aggregator.currencies import minor_units
from ledger_aggregator.domain import (
    Change,
    Delta,
    PoisonRecordError,
    Totals,
    canonical_time,
    changes_of,
    coalesce,
    contribution_of,
    currency_places,
    fold,
    hold_problems,
    holds_opened,
    parse_amount,
    parse_batch,
    standalone_net,
)
from ledger_aggregator.projector import queue_items
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
    (change,), problem = changes_of(ledger.put(row))
    assert problem is None
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
    changes, problem = changes_of({"eventID": "e1", "dynamodb": {"Keys": {}, "SequenceNumber": "1"}})
    assert changes == () and problem is not None and problem.field == "accountId"


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


def test_hold_rows_fold_to_posted_and_held_amounts_and_open_holds() -> None:
    """docs/holds.md: posted = credits - debits - captures, held = holds - captures - releases."""
    rows: list[dict[str, Any]] = [
        image("a", "t1", "credit", "100"),
        image("a", "h1", "hold", "30"),
        image("a", "c1", "capture", "10"),
        image("a", "h1.release", "release", "20"),
        image("a", "h2", "hold", "7.50"),
        image("a", "c2", "capture", "7.50") | {"final": {"BOOL": True}},
    ]
    (summary,) = fold(rows).values()
    assert summary.totals == Totals(credits=Decimal(100), debits=Decimal("17.50"), count=6, held=Decimal(0))
    assert summary.totals.balance == Decimal("82.50")
    assert [holds_opened(r) for r in rows] == [0, 1, 0, -1, 1, -1]
    assert fold(rows[:2])[("a", "EUR")].totals.held == 30


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"type": {"S": "capture"}, "holdId": {"S": "h1"}}, "a capture row's final is not a boolean"),
        ({"type": {"S": "capture"}, "final": {"S": "true"}, "holdId": {"S": "h1"}}, "a capture row's final is not"),
        ({"type": {"S": "release"}, "holdId": {"S": ""}}, "a release row has no holdId"),
        ({"type": {"S": "hold"}, "holdId": {"N": "1"}}, "holdId is not of DynamoDB type S"),
    ],
)
def test_a_hold_row_that_does_not_name_its_hold_or_say_if_final_is_poison(row: dict[str, Any], reason: str) -> None:
    """Reviewed finding: a capture without final counted as not final, an open hold that no void could close."""
    bad = {k: v for k, v in image("a", "c1", "capture", "5").items() if k not in ("final", "holdId")} | row
    with pytest.raises(PoisonRecordError, match=reason):
        contribution_of(bad)


def trail(*rows: tuple[str, str, str, str]) -> list[dict[str, Any]]:
    """Rows of holds: (type, key, hold id, amount); a capture keyed ``!...`` is final."""
    made = []
    for kind, key, hold_id, amount in rows:
        row: dict[str, Any] = image("a", key.lstrip("!"), kind, amount) | {"holdId": {"S": hold_id}}
        if kind == "capture":
            row["final"] = {"BOOL": key.startswith("!")}
        made.append(row)
    return made


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (trail(("release", "h1.release", "h1", "5")), "hold h1: a capture or release without the hold's row"),
        (trail(("hold", "h1", "h1", "5"), ("capture", "c1", "h1", "6")), "hold h1: captures and release take 6"),
        (
            trail(("hold", "h1", "h1", "5"), ("capture", "!c1", "h1", "5"), ("release", "h1.release", "h1", "0.01")),
            "hold h1: captures and release take 5.01",
        ),
        (
            trail(("hold", "h1", "h1", "5"), ("capture", "!c1", "h1", "2"), ("capture", "!c2", "h1", "3")),
            "hold h1: closed twice",
        ),
        (trail(("hold", "h1", "h1", "5"), ("capture", "!c1", "h1", "2")), "hold h1: closed with 3 left"),
        (trail(("hold", "h1", "h1", "5"), ("capture", "c1", "h1", "5")), "hold h1: open with nothing left"),
    ],
)
def test_hold_rows_no_request_could_write_are_named(rows: list[dict[str, Any]], problem: str) -> None:
    found = hold_problems(rows)
    assert list(found) == [("a", "EUR")] and found[("a", "EUR")][0].startswith(problem), found


def test_hold_rows_the_api_writes_have_no_problem() -> None:
    lifecycle = trail(
        ("hold", "h1", "h1", "5"),
        ("capture", "c1", "h1", "2"),
        ("release", "h1.release", "h1", "3"),
        ("hold", "h2", "h2", "7"),
        ("capture", "!c2", "h2", "7"),
        ("hold", "h3", "h3", "1"),
    )
    assert hold_problems(lifecycle) == {}


def test_a_row_of_an_unknown_type_is_still_poison_and_counts_nowhere() -> None:
    ledger = Ledger()
    ledger.put(image("a", "t1", "refund", "5"))
    parsed = parse_batch(ledger.records)
    assert parsed.changes == ()
    assert [p.reason for p in parsed.poison] == ["NewImage: type must be credit, debit, hold, capture or release"]
    assert fold(ledger.rows.values()) == {}


def test_a_delta_that_holds_is_sent_as_version_3_and_one_that_does_not_as_version_2() -> None:
    ledger = Ledger()
    ledger.put(image("acc-1", "t1", "credit", "0.10"))
    (plain,) = coalesce(parse_batch(ledger.records).changes)
    assert json.loads(encode(plain))["v"] == 2, "what a writer of the version before reads"
    ledger.put(image("acc-1", "h1", "hold", "0.05"))
    ledger.put(image("acc-1", "c1", "capture", "0.05"))
    (holding,) = coalesce(parse_batch(ledger.records).changes)
    body = encode(holding)
    assert json.loads(body)["v"] == 3 and decode(body) == holding
    assert decode(body).totals == Totals(Decimal("0.10"), Decimal("0.05"), 3, Decimal(0))
    assert [c.totals.held for c in decode(body).changes] == [0, Decimal("0.05"), Decimal("-0.05")]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"v": 2}',
        '{"v": 1, "accountId": "a", "changes": [["e", "1", "1", "0", 1, null]]}',
        '{"v": 2, "accountId": "a b", "currency": "EUR", "changes": [["e", "1", "1", "0", 1, null, false]]}',
        '{"v": 2, "accountId": "a", "changes": [["e", "1", "1", "0", 1, null, false]]}',
        '{"v": 2, "accountId": "a", "currency": "EURO", "changes": [["e", "1", "1", "0", 1, null, false]]}',
        '{"v": 2, "accountId": "a", "currency": "EUR", "changes": [["e", "1", "1", "0", 1, null]]}',
        '{"v": 2, "accountId": "a", "currency": "EUR", "changes": [["e", "1", 1.5, "0", 1, null, false]]}',
        '{"v": 2, "accountId": "a", "currency": "EUR", "changes": [["e", "1", "NaN", "0", 1, null, false]]}',
        '{"v": 2, "accountId": "a", "currency": "EUR", "changes": [["e", "1", "1", "0", 1, null, "no"]]}',
        '{"v": 2, "accountId": "a", "currency": "EUR", "changes": [["e", "1", "1", "0", 1, null, false, "1"]]}',
        '{"v": 3, "accountId": "a", "currency": "EUR", "changes": [["e", "1", "1", "0", 1, null, false]]}',
        '{"v": 3, "accountId": "a", "currency": "EUR", "changes": [["e", "1", "0", "0", 1, null, false, "0.001"]]}',
        '{"v": 3, "accountId": "a", "currency": "EUR", "changes": [["e", "1", "0", "0", 1, null, false, 1]]}',
        '{"v": "3", "accountId": "a", "currency": "EUR", "changes": [["e", "1", "0", "0", 1, null, false, "1"]]}',
    ],
)
def test_malformed_messages_are_poison(body: str) -> None:
    with pytest.raises(PoisonRecordError):
        decode(body)


@pytest.mark.parametrize(("code", "places"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3), ("KWD", 3)])
def test_minor_units_come_from_iso_4217(code: str, places: int) -> None:
    assert currency_places(code) == places
    assert {"JOD", "OMR", "TND"} <= {c for c, p in minor_units().items() if p == 3}


@pytest.mark.parametrize("code", ["eur", "EURO", "XXX", "XAU", "ABC", "", None])
def test_unknown_or_unitless_currencies_are_refused(code: str | None) -> None:
    with pytest.raises(PoisonRecordError) as raised:
        currency_places(code)
    assert raised.value.field == "currency"


@pytest.mark.parametrize(
    ("text", "places", "ok"), [("1", 0, True), ("1.5", 0, False), ("1.005", 3, True), ("1.0001", 3, False)]
)
def test_the_minor_unit_bounds_an_amounts_places(text: str, places: int, ok: bool) -> None:
    if ok:
        assert parse_amount(text, places) == Decimal(text)
    else:
        with pytest.raises(PoisonRecordError, match=f"{places} decimal places"):
            parse_amount(text, places)


@pytest.mark.parametrize(
    ("currency", "amount", "field"),
    [(None, "1", "currency"), ("EURO", "1", "currency"), ("JPY", "1.5", "amount"), ("EUR", "1.005", "amount")],
)
def test_a_row_without_a_valid_currency_or_with_too_many_places_is_poison(
    currency: str | None, amount: str, field: str
) -> None:
    row = image("a", "t", "credit", amount, currency=currency or "EUR")
    if currency is None:
        del row["currency"]
    changes, problem = changes_of(Ledger().put(row))
    assert changes == () and problem is not None and problem.field == field


def test_one_account_keeps_one_summary_per_currency_and_never_adds_two() -> None:
    ledger = Ledger()
    ledger.put(image("a", "t1", "credit", "100", currency="EUR"))
    ledger.put(image("a", "t2", "debit", "100", currency="USD"))
    ledger.put(image("a", "t3", "debit", "5000", currency="JPY"))
    folded = fold(ledger.rows.values())
    assert {k: s.totals.balance for k, s in folded.items()} == {
        ("a", "EUR"): Decimal(100),
        ("a", "USD"): Decimal(-100),
        ("a", "JPY"): Decimal(-5000),
    }
    deltas = coalesce(parse_batch(ledger.records).changes)
    assert sorted(d.key for d in deltas) == sorted(folded)


def test_a_modify_that_changes_the_currency_moves_the_amount_exactly() -> None:
    ledger = Ledger()
    ledger.put(image("a", "t", "credit", "10.50", currency="EUR"))
    ledger.put(image("a", "t", "credit", "11", currency="USD"))
    moved_in, moved_out = changes_of(ledger.records[-1])[0]
    assert (moved_in.currency, moved_in.totals) == ("USD", Totals(Decimal(11), Decimal(0), 1))
    assert (moved_out.currency, moved_out.totals) == ("EUR", Totals(Decimal("-10.50"), Decimal(0), -1))
    assert moved_in.marker_id != moved_out.marker_id and moved_in.record_id == moved_out.record_id
    assert moved_out.latest_at is None
    totals = {d.key: d.totals for d in coalesce(parse_batch(ledger.records).changes)}
    assert totals == {("a", "EUR"): Totals(), ("a", "USD"): Totals(Decimal(11), Decimal(0), 1)}


def test_a_delta_refuses_a_change_of_another_currency() -> None:
    change = Change("e1", "1", "a", "USD", Totals(Decimal(1), Decimal(0), 1), None)
    with pytest.raises(ValueError, match="cannot join"):
        Delta("a", "EUR", (change,))


def test_transfer_legs_are_left_out_of_the_standalone_net() -> None:
    ledger = Ledger()
    ledger.put(image("a", "t1", "credit", "100"))
    ledger.put(image("b", "t2", "debit", "30"))
    legs = [image("a", "x1", "debit", "40"), image("b", "x1", "credit", "40")]
    for leg in legs:
        leg["transferId"] = {"S": "x1"}
        ledger.put(leg)
    ledger.put(image("a", "t3", "credit", "7", currency="JPY"))
    assert standalone_net(ledger.rows.values()) == {"EUR": Decimal(70), "JPY": Decimal(7)}
    balances = sum((s.totals.balance for k, s in fold(ledger.rows.values()).items() if k[1] == "EUR"), Decimal(0))
    assert balances == Decimal(70)


FORGED = [
    ("a change's count is not -1, 0 or 1", '["e1", "1", "5", "0", 7, null, false]'),
    ("an inserted row's amount is negative", '["e1", "1", "-5", "0", 1, null, false]'),
    ("a removed row's amount is positive", '["e1", "1", "5", "0", -1, null, false]'),
    ("more places than the currency has", '["e1", "1", "0.001", "0", 1, null, false]'),
    ("more than 15 digits", '["e1", "1", "1000000000000000", "0", 1, null, false]'),
    ("a record id of another shape", '["e 1\\"", "1", "5", "0", 1, null, false]'),
    ("a sequence number that is not one", '["e1", "x", "5", "0", 1, null, false]'),
    ("a time not in the canonical form", '["e1", "1", "5", "0", 1, "2026-01-01", false]'),
    ("a moved-out change that adds", '["e1", "1", "5", "0", 1, null, true]'),
    ("a row added that adds nothing but a count", '["e1", "1", "0", "0", 1, null, false]'),
]
FORGED_HELD = [
    ("a credit that holds", '["e1", "1", "100", "0", 1, null, false, "-100"]'),
    ("a debit that adds to held", '["e1", "1", "0", "5", 1, null, false, "5"]'),
    ("a capture that gives up more than it debits", '["e1", "1", "0", "5", 1, null, false, "-7"]'),
    ("a removed credit that held", '["e1", "1", "-5", "0", -1, null, false, "5"]'),
    ("held with more places than the currency has", '["e1", "1", "0", "0", 1, null, false, "0.001"]'),
    ("held of more than two amounts", '["e1", "1", "0", "0", 0, null, false, "10000000000000000"]'),
]


@pytest.mark.parametrize(("why", "row"), FORGED, ids=[w for w, _ in FORGED])
def test_a_message_the_stream_function_would_not_write_is_poison(why: str, row: str) -> None:
    """Reviewed finding: anyone who could send to the buffer queue could change balances; the writer
    trusted any well-formed message."""
    with pytest.raises(PoisonRecordError):
        decode(f'{{"v": 2, "accountId": "a", "currency": "EUR", "changes": [{row}]}}')


@pytest.mark.parametrize(("why", "row"), FORGED_HELD, ids=[w for w, _ in FORGED_HELD])
def test_a_version_3_change_no_row_can_make_is_poison(why: str, row: str) -> None:
    """Reviewed finding: a credit of 100 holding -100, and a debit of 5 holding 5, were taken."""
    with pytest.raises(PoisonRecordError):
        decode(f'{{"v": 3, "accountId": "a", "currency": "EUR", "changes": [{row}]}}')


def test_a_hold_changed_in_place_into_its_capture_travels_with_twice_the_largest_amount_held() -> None:
    """Found by the pattern 2 property: held then changes by two amounts, one digit more than an amount has."""
    ledger = Ledger()
    ledger.put(image("acc-1", "x", "hold", "999999999999999"))
    ledger.put(image("acc-1", "x", "capture", "999999999999999"))
    (delta,) = coalesce(parse_batch(ledger.records[1:]).changes)
    assert delta.totals.held == Decimal(-1999999999999998)
    assert decode(encode(delta)) == delta


@pytest.mark.parametrize(
    "row",
    [
        '["e1", "1", "0", "0", 1, "2026-01-01T00:00:00.000000Z", false, "5"]',  # a hold
        '["e1", "1", "0", "5", 1, "2026-01-01T00:00:00.000000Z", false, "-5"]',  # a capture
        '["e1", "1", "0", "0", 1, "2026-01-01T00:00:00.000000Z", false, "-5"]',  # a release
        '["e1", "1", "0", "-5", -1, null, true, "5"]',  # a capture moved out of this currency
    ],
)
def test_every_change_a_hold_row_makes_is_read(row: str) -> None:
    assert decode(f'{{"v": 3, "accountId": "a", "currency": "EUR", "changes": [{row}]}}').changes


def test_the_same_change_twice_in_one_message_is_poison() -> None:
    row = '["e1", "1", "5", "0", 1, null, false]'
    with pytest.raises(PoisonRecordError, match="twice"):
        decode(f'{{"v": 2, "accountId": "a", "currency": "EUR", "changes": [{row}, {row}]}}')


def test_a_message_whose_delta_id_does_not_match_its_body_is_poison() -> None:
    ledger = Ledger()
    ledger.put(image("acc", "t1", "credit", "2.50"))
    (delta,) = coalesce(parse_batch(ledger.records).changes)
    body = encode(delta)
    good = {"messageId": "m1", "body": body, "messageAttributes": {"deltaId": {"stringValue": delta_id(delta)}}}
    forged = {"messageId": "m2", "body": body, "messageAttributes": {"deltaId": {"stringValue": "0" * 32}}}
    changes, poison = queue_items([good, forged])
    assert [t.item for t in changes] == ["m1"]
    assert [(p.item, p.poison.field) for p in poison] == [("m2", "deltaId")]


# --- one validator per field: the stream side and the writer's decoder agree ----------------------

NOT_ASCII_OR_NOT_WHOLE_TIMES = [
    "٢٠٢٤-01-01T00:00:00Z",  # Arabic-Indic digits: Python's \d takes them
    "2024-01-01T00:00:00Z\n",  # $ takes a trailing newline
    "2024-01-\uff101T00:00:00Z",  # a full-width digit
    "2024-13-01T00:00:00Z",  # no such month
    "2023-02-29T00:00:00Z",  # no such day
]


@pytest.mark.parametrize("when", NOT_ASCII_OR_NOT_WHOLE_TIMES)
def test_the_stream_side_refuses_a_time_the_decoder_would_refuse(when: str) -> None:
    """Reviewed finding: the stream side counted rows whose time the writer's decoder refused, so that a
    message with one such change went whole to the DLQ."""
    row = image("acc", "t1", "credit", "1")
    row["occurredAt"] = {"S": when}
    parsed = parse_batch([Ledger().put(row)])
    assert parsed.changes == () and [p.field for p in parsed.poison] == ["occurredAt"]


@pytest.mark.parametrize("account", ["acc\n", "\uff41cc", "acc-٢"])
def test_an_account_id_is_ascii_and_whole(account: str) -> None:
    row = image(account, "t1", "credit", "1")
    changes, problem = changes_of(Ledger().put(row))
    assert changes == () and problem is not None and problem.field == "accountId"
    row_json = '["e1", "1", "5", "0", 1, null, false]'
    body = f'{{"v": 2, "accountId": "{account}", "currency": "EUR", "changes": [{row_json}]}}'
    with pytest.raises(PoisonRecordError, match="accountId"):
        decode(body.replace("\n", "\\n"))


def test_what_the_stream_side_counts_the_decoder_reads_back() -> None:
    ledger = Ledger()
    for i, when in enumerate(["2024-02-29T23:59:59Z", "0001-01-01T00:00:00.5Z", "2026-01-01T00:00:00.123456Z"]):
        row = image("acc", f"t{i}", "credit", "1.25")
        row["occurredAt"] = {"S": when}
        ledger.put(row)
    (delta,) = coalesce(parse_batch(ledger.records).changes)
    assert decode(encode(delta)) == delta


def test_one_bad_change_is_parked_alone_and_the_valid_ones_are_applied() -> None:
    """Reviewed finding: one bad change sent its whole message to the DLQ, a valid 100.00 with it."""
    good = '["e1", "1", "100.00", "0", 1, "2026-01-01T00:00:00.000000Z", false]'
    bad = '["e2", "2", "5", "0", 1, "٢٠٢٦-01-01T00:00:00.000000Z", false]'
    body = f'{{"v": 2, "accountId": "acc", "currency": "EUR", "changes": [{good}, {bad}]}}'
    decoded = decode_changes(body)
    labelled = {"messageId": "m1", "body": body, "messageAttributes": {"deltaId": {"stringValue": decoded.sent_id}}}
    changes, poison = queue_items([labelled])
    assert [(t.item, t.change.record_id, t.change.totals.credits) for t in changes] == [("m1", "e1", Decimal("100.00"))]
    parked = [(p.item, p.poison.record_id, p.poison.reason) for p in poison]
    assert parked == [("m1", "m1/1", "a change has a bad time")]
    assert poison[0].poison.record["refusedChange"]["change"][0] == "e2"
    with pytest.raises(PoisonRecordError):
        decode(body)  # read whole, the message is still refused: classify and replay say so


def test_the_delta_id_label_covers_the_refused_changes_too() -> None:
    good = '["e1", "1", "1", "0", 1, null, false]'
    bad = '["e2", "x", "5", "0", 1, null, false]'
    body = f'{{"v": 2, "accountId": "acc", "currency": "EUR", "changes": [{good}, {bad}]}}'
    only_good = decode(f'{{"v": 2, "accountId": "acc", "currency": "EUR", "changes": [{good}]}}')
    forged = {"messageId": "m1", "body": body, "messageAttributes": {"deltaId": {"stringValue": delta_id(only_good)}}}
    changes, poison = queue_items([forged])
    assert changes == [] and [p.poison.field for p in poison] == ["deltaId"]
