"""The history core on random histories: every close is the fold of its day, and every answer agrees."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_aggregator.closer import close_all
from ledger_aggregator.domain import Key, Totals
from ledger_aggregator.history import (
    DAY_MS,
    Close,
    HistoryError,
    balance_at,
    booked_by_day,
    close_days,
    close_month,
    close_problems,
    closes_of_statement,
    day_of,
    day_start_ms,
    is_month_end,
    month_of,
    row_of_listing,
    sealed_through,
    statement,
)
from tests.support.history import CrashError, FakeHistory, booked_row, fold_upto

START = day_start_ms(date(2026, 1, 27))  # a history that crosses January's and February's ends
SPAN_DAYS = 40
ACCOUNTS = ("acc-1", "acc-2")
CURRENCIES = ("EUR", "USD", "JPY")

row_strategy = st.tuples(
    st.sampled_from(ACCOUNTS),
    st.sampled_from(CURRENCIES),
    st.sampled_from(["credit", "debit", "hold", "capture", "release", "poison"]),
    st.integers(min_value=1, max_value=10**9),
    st.integers(min_value=0, max_value=SPAN_DAYS * DAY_MS - 1),
)


def history_of(drawn: list[tuple[str, str, str, int, int]]) -> list[dict[str, Any]]:
    rows = []
    for number, (account, currency, kind, minor, offset) in enumerate(drawn):
        amount = str(Decimal(minor).scaleb(0 if currency == "JPY" else -2))
        rows.append(
            booked_row(
                account, currency, "refund" if kind == "poison" else kind, amount, at_ms=START + offset, number=number
            )
        )
    return rows


def closed(rows: list[dict[str, Any]], through: date) -> FakeHistory:
    store = FakeHistory(rows_=rows)
    run = close_all(store, through, workers=1)
    assert not run.differs
    return store


def key_closes(store: FakeHistory, key: Key) -> list[Close]:
    return [c for (a, cu, _), c in sorted(store.closes.items()) if (a, cu) == key]


LAST = day_of(START) + timedelta(days=SPAN_DAYS - 1)


@settings(max_examples=60, deadline=None)
@given(st.lists(row_strategy, max_size=60), st.data())
def test_closes_are_folds_and_agree_with_every_answer(drawn: list[Any], data: st.DataObject) -> None:
    rows = history_of(drawn)
    store = closed(rows, LAST)
    keys = store.keys()
    for key in keys:
        days_ = store.days_of(key)
        booked = booked_by_day([r for r in rows if r["accountId"]["S"] == key[0]], key[1])
        assert days_[0].day == min(booked), "the first close is the key's first booked day"
        assert days_[-1].day == LAST
        previous = None
        for close in days_:
            assert close.totals == booked.get(close.day, Totals()), "a day close is the fold of its day"
            assert close.opening == (previous.closing if previous else 0), "opening(day) = closing(day - 1)"
            end_of_day = day_start_ms(close.day) + DAY_MS - 1
            assert close.closing == fold_upto(rows, key, end_of_day)
            previous = close
        for month in (c for c in key_closes(store, key) if not c.is_day):
            of_month = [d for d in days_ if d.period.startswith(month.period)]
            assert month.opening == of_month[0].opening and month.closing == of_month[-1].closing
            assert month.totals == sum((d.totals for d in of_month), Totals())
        assert close_problems(booked, key_closes(store, key)) == []
        # A statement over any range of closed days agrees with the day closes.
        first = data.draw(st.integers(min_value=0, max_value=len(days_) - 1))
        last = data.draw(st.integers(min_value=first, max_value=len(days_) - 1))
        made = statement(days_[first : last + 1])
        assert made.opening == (days_[first - 1].closing if first else 0)
        assert made.closing == days_[last].closing
        assert made.closing - made.opening == made.totals.credits - made.totals.debits
        # The balance at any instant is the fold of the rows booked up to it.
        instant = data.draw(st.integers(min_value=START + DAY_MS, max_value=START + SPAN_DAYS * DAY_MS - 1))
        before = day_of(instant) - timedelta(days=1)
        close_before = next((d for d in days_ if d.day == before), None)
        day_rows = [r for r in rows if r["accountId"]["S"] == key[0]]
        assert balance_at(close_before, day_rows, key[1], instant) == fold_upto(rows, key, instant)


@settings(max_examples=30, deadline=None)
@given(st.lists(row_strategy, min_size=1, max_size=40), st.integers(min_value=0, max_value=80))
def test_a_run_cut_short_goes_on_to_the_same_closes_and_a_second_run_writes_nothing(drawn: list[Any], cut: int) -> None:
    rows = history_of(drawn)
    whole = closed(rows, LAST)
    store = FakeHistory(rows_=rows, crash_after=cut)
    with contextlib.suppress(CrashError):
        close_all(store, LAST, workers=1)
    store.crash_after = None
    first = close_all(store, LAST, workers=1)
    again = close_all(store, LAST, workers=1)
    assert store.closes == whole.closes
    assert not first.differs and again.written == 0 and not again.differs


@settings(max_examples=30, deadline=None)
@given(st.lists(row_strategy, min_size=1, max_size=40), st.integers(min_value=0, max_value=12))
def test_a_run_stopped_for_time_leaves_the_rest_to_the_next_without_a_gap(drawn: list[Any], allowed: int) -> None:
    """The scheduled function stops a run as its time runs out: between keys and between a key's months."""
    rows = history_of(drawn)
    whole = closed(rows, LAST)
    store = FakeHistory(rows_=rows)
    asked = iter(range(allowed + 1000))
    stopped = close_all(store, LAST, workers=1, stop=lambda: next(asked) >= allowed)
    assert not stopped.differs and not stopped.failed
    assert set(store.closes) <= set(whole.closes)
    rest = close_all(store, LAST, workers=1)
    assert store.closes == whole.closes and rest.stopped == 0
    assert (stopped.stopped > 0) == (rest.written > 0), "a key is counted stopped exactly when work was left"


def test_a_run_that_finds_every_key_closed_reads_no_rows() -> None:
    """The steady hourly run: one close read per key, no rows, except a key whose last close ends a month
    (its month close may be missing: a run cut short between the two)."""
    rows = history_of([(a, "EUR", "credit", 100, d * DAY_MS) for a in ACCOUNTS for d in range(SPAN_DAYS)])
    store = closed(rows, LAST - timedelta(days=1))
    assert not is_month_end(LAST - timedelta(days=1))
    store.reads = 0
    again = close_all(store, LAST - timedelta(days=1), workers=1)
    assert (again.written, again.present, store.reads) == (0, 0, 0)
    close_all(store, LAST, workers=1)
    assert store.reads == 2 * len(ACCOUNTS), "the next day: per key, the last closed day's re-check and the new day"


def test_closing_day_by_day_makes_what_one_run_makes() -> None:
    rows = history_of([("acc-1", "EUR", "credit", 500, d * DAY_MS // 3) for d in range(3 * SPAN_DAYS)])
    stepwise = FakeHistory(rows_=rows)
    for offset in range(SPAN_DAYS):
        close_all(stepwise, day_of(START) + timedelta(days=offset), workers=1)
    assert stepwise.closes == closed(rows, LAST).closes
    assert {c.period for c in stepwise.closes.values() if not c.is_day} == {"2026-01", "2026-02"}


def test_a_month_close_sums_every_day_of_the_month_its_last_included() -> None:
    january_31 = 4 * DAY_MS + 7
    rows = history_of([("acc-1", "EUR", "credit", 500, 0), ("acc-1", "EUR", "debit", 200, january_31)])
    store = closed(rows, LAST)
    month = store.closes[("acc-1", "EUR", "2026-01")]
    assert (month.opening, month.totals, month.closing) == (Decimal(0), Totals(Decimal(5), Decimal(2), 2), Decimal(3))
    assert store.closes[("acc-1", "EUR", "2026-02")].opening == Decimal(3)


def test_a_different_close_already_stored_is_reported_and_the_key_is_not_closed_past_it() -> None:
    rows = history_of([("acc-1", "EUR", "credit", 500, 0), ("acc-1", "EUR", "debit", 200, 3 * DAY_MS)])
    store = closed(rows, day_of(START))
    # Another closer wrote the next day after this one read its last close (it saw other rows).
    forged = Close("acc-1", "EUR", "2026-01-28", Decimal("5.00"), Totals(Decimal(1), Decimal(0), 1))
    store.closes[("acc-1", "EUR", "2026-01-28")] = forged
    store.hidden.add("2026-01-28")
    run = close_all(store, LAST, workers=1)
    assert run.differs == ["acc-1/EUR 2026-01-28: a different close is stored"]
    assert store.closes[("acc-1", "EUR", "2026-01-28")] is forged, "never rewritten"
    store.hidden.clear()
    assert store.last_day(("acc-1", "EUR")) == forged, "nothing written after it"


def test_reconcile_finds_a_tampered_close_a_gap_and_a_missing_month() -> None:
    rows = history_of([("acc-1", "EUR", "credit", 500, 0), ("acc-1", "EUR", "debit", 200, 3 * DAY_MS)])
    store = closed(rows, LAST)
    key = ("acc-1", "EUR")
    booked = booked_by_day(rows, "EUR")
    closes = key_closes(store, key)
    tampered = [
        Close(c.account_id, c.currency, c.period, c.opening, c.totals + Totals(count=1))
        if c.period == "2026-01-30"
        else c
        for c in closes
    ]
    assert close_problems(booked, tampered)[0].startswith("2026-01-30: stored opening")
    gap = [c for c in closes if c.period != "2026-02-03"]
    assert "2026-02-03: no close" in close_problems(booked, gap)
    no_month = [c for c in closes if c.period != "2026-01"]
    assert close_problems(booked, no_month) == ["2026-01: its last day is closed, the month is not"]


def test_a_day_is_sealed_only_a_margin_after_its_end() -> None:
    day = date(2026, 12, 5)
    end = day_start_ms(day + timedelta(days=1))
    margin = 89_000
    assert sealed_through(end + margin - 1, margin) == day - timedelta(days=1)
    assert sealed_through(end + margin, margin) == day


def test_a_month_close_needs_every_day_to_the_months_end() -> None:
    days_ = close_days("a", "EUR", None, booked={}, first=date(2026, 2, 1), last=date(2026, 2, 28))
    assert close_month(days_).period == "2026-02" and is_month_end(date(2028, 2, 29))
    with pytest.raises(HistoryError):
        close_month(days_[:-1])
    with pytest.raises(HistoryError):
        close_month(days_[:3] + days_[4:])
    assert month_of(date(2026, 2, 28)) == "2026-02"


def test_a_row_changed_on_the_last_closed_day_stops_the_key() -> None:
    """Reviewed: a row fixed in place on a closed day (never through the API) left the closes chaining on
    from the old numbers with exit 0."""
    rows = history_of([("acc-1", "EUR", "credit", 500, 0), ("acc-1", "EUR", "poison", 300, 7)])
    store = closed(rows, day_of(START))
    rows[1]["type"] = {"S": "credit"}  # the poison row mended in place, after its day was closed
    run = close_all(store, LAST, workers=1)
    assert run.written == 0 and run.differs[0].startswith("acc-1/EUR 2026-01-27: the rows booked that day no longer")


def test_a_key_whose_first_row_is_not_sealed_yet_is_not_begun() -> None:
    """Reviewed: a fast row of the next day, seen before a slow row of the sealed day landed, made the key
    begin a day late, and the slow row's day was never closed."""
    store = FakeHistory(rows_=history_of([("acc-1", "EUR", "credit", 500, DAY_MS + 1)]))
    run = close_all(store, day_of(START), workers=1)
    assert run.written == 0, "the key's only row is on a day not sealed yet"
    store.rows_ += history_of([("acc-1", "EUR", "credit", 100, DAY_MS - 1)])  # the slow row lands
    store.rows_[-1]["transactionId"] = {"S": "slow"}
    close_all(store, day_of(START) + timedelta(days=1), workers=1)
    first = store.closes[("acc-1", "EUR", day_of(START).isoformat())]
    last = store.last_day(("acc-1", "EUR"))
    assert first.totals.credits == Decimal(1) and last is not None and last.closing == Decimal(6)


def test_a_statement_line_that_does_not_add_up_is_refused_and_a_listed_row_folds_as_stored() -> None:
    """The client functions over the API's answers check what they add: a day line whose closing is not its
    opening plus credits less debits is refused, never summed; a listed transaction folds as its row."""
    line = {"day": "2026-11-03", "opening": "1.00", "credits": "2.00", "debits": "0.50", "transactionCount": 2}
    answer = {"accountId": "a", "currency": "EUR", "days": [{**line, "closing": "2.50"}]}
    [close] = closes_of_statement(answer)
    assert (close.period, close.closing, close.totals.count) == ("2026-11-03", Decimal("2.50"), 2)
    with pytest.raises(HistoryError, match="does not add up"):
        closes_of_statement({**answer, "days": [{**line, "closing": "2.51"}]})
    stored = booked_row("a", "EUR", "debit", "0.50", at_ms=START + 5, number=7)
    listed = {"transactionId": "t00007", "type": "debit", "amount": "0.50", "currency": "EUR", "recordedAt": START + 5}
    assert row_of_listing("a", listed) == stored


def test_a_day_books_what_holds_posted_and_not_what_they_reserve() -> None:
    lifecycle = [("credit", "100"), ("hold", "30"), ("capture", "10"), ("release", "20"), ("hold", "5")]
    rows = [booked_row("acc-1", "EUR", kind, sum_, at_ms=START, number=n) for n, (kind, sum_) in enumerate(lifecycle)]
    booked = booked_by_day(rows, "EUR")[day_of(START)]
    assert booked == Totals(credits=Decimal(100), debits=Decimal(10), count=5), "a capture is a debit; held is not"
    store = closed(rows, day_of(START))
    assert [c.closing for c in store.days_of(("acc-1", "EUR"))] == [Decimal(90)]
