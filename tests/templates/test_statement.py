"""GET /accounts/{accountId}/statement, rendered and run against moto, over closes the closer wrote.

The API answers only stored numbers; what it answers is compared with ledger_aggregator.history.statement
over the same closes, the function ledger-ops prints from (docs/history.md): the same answer from both.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_aggregator.adapters.history import DynamoHistory, HistoryTables
from ledger_aggregator.closer import close_all
from ledger_aggregator.history import (
    DAY_MS,
    Close,
    HistoryError,
    balance_at,
    balance_at_answers,
    day_of,
    day_start_ms,
    statement,
    statement_of_answer,
)
from tests.support.aws import DETAILS, DETAILS_INDEX, HISTORY, SUMMARY, emptied
from tests.support.history import booked_row, fold_upto
from tests.templates.test_templates import CLAIM, call

OCTOBER_30 = date(2026, 10, 30)
TABLES = HistoryTables(DETAILS, DETAILS_INDEX, SUMMARY, HISTORY)


def book(client: Any, account: str, rows: list[tuple[str, str, str, int]]) -> None:
    """Post (type, amount, currency, milliseconds after 30 October's start) through the API's template."""
    for number, (kind, amount, currency, after) in enumerate(rows):
        body = {"transactionId": f"r{number:03d}", "type": kind, "amount": amount, "currency": currency}
        answer = call(
            client, "create_transaction", {"accountId": account}, body, epoch=day_start_ms(OCTOBER_30) + after
        )
        assert answer.status == 201, answer


def close(client: Any, account: str, currencies: list[str], through: date) -> DynamoHistory:
    store = DynamoHistory(client, TABLES)
    run = close_all(store, through, [(account, c) for c in currencies], workers=1)
    assert not run.differs and not run.failed
    return store


def stated(client: Any, account: str, **query: str) -> Any:
    return call(client, "get_statement", {"accountId": account}, query=query)


@pytest.fixture
def closed(dynamodb: Any) -> DynamoHistory:
    day = DAY_MS
    euros = [("credit", "10.00", "EUR", 5), ("debit", "2.5", "EUR", day - 1), ("credit", "1.25", "EUR", 3 * day)]
    book(dynamodb, "acc-1", [*euros, ("credit", "500", "JPY", 2 * day)])
    return close(dynamodb, "acc-1", ["EUR", "JPY"], date(2026, 11, 30))


def test_a_month_answers_its_close_and_its_days(closed: DynamoHistory) -> None:
    answer = stated(closed._client, "acc-1", currency="EUR", month="2026-11")
    assert answer.status == 200, answer.body
    body = answer.body
    assert (body["opening"], body["closing"]) == ("7.50", "8.75")
    assert body["totals"] == {"credits": "1.25", "debits": "0.00", "transactionCount": 1}
    assert [d["day"] for d in body["days"]] == [f"2026-11-{n:02d}" for n in range(1, 31)]
    assert body["days"][1] == {
        "day": "2026-11-02",
        "opening": "7.50",
        "credits": "1.25",
        "debits": "0.00",
        "transactionCount": 1,
        "closing": "8.75",
    }
    same = statement(closed.closes_between(("acc-1", "EUR"), date(2026, 11, 1), date(2026, 11, 30)))
    assert (Decimal(body["opening"]), Decimal(body["closing"])) == (same.opening, same.closing)
    assert Decimal(body["totals"]["credits"]) == same.totals.credits


def test_a_keys_first_month_starts_on_its_first_day_and_a_currency_keeps_its_minor_unit(closed: DynamoHistory) -> None:
    october = stated(closed._client, "acc-1", currency="EUR", month="2026-10").body
    assert october["opening"] == "0.00" and october["closing"] == "7.50"
    assert [d["day"] for d in october["days"]] == ["2026-10-30", "2026-10-31"]
    yen = stated(closed._client, "acc-1", currency="JPY", month="2026-11").body
    assert (yen["opening"], yen["closing"], yen["days"][0]["day"]) == ("0", "500", "2026-11-01")


def test_days_of_a_month_answer_the_first_opening_and_the_last_closing_and_no_totals(closed: DynamoHistory) -> None:
    answer = stated(closed._client, "acc-1", currency="EUR", **{"from": "2026-10-30", "to": "2026-10-31"})
    assert answer.status == 200, answer.body
    assert (answer.body["opening"], answer.body["closing"], answer.body["totals"]) == ("0.00", "7.50", None)
    one = stated(closed._client, "acc-1", currency="EUR", **{"from": "2026-11-02", "to": "2026-11-02"}).body
    assert (one["opening"], one["closing"], len(one["days"])) == ("7.50", "8.75", 1), "a day's balance at its close"


def test_a_range_before_the_first_booked_day_is_zero_once_a_later_day_is_closed(closed: DynamoHistory) -> None:
    answer = stated(closed._client, "acc-1", currency="EUR", month="2026-09")
    assert answer.status == 200, answer.body
    assert answer.body["opening"] == answer.body["closing"] == "0.00" and answer.body["days"] == []
    assert answer.body["totals"] == {"credits": "0.00", "debits": "0.00", "transactionCount": 0}


def test_days_not_yet_closed_are_404_naming_the_last_closed_day(closed: DynamoHistory) -> None:
    december = stated(closed._client, "acc-1", currency="EUR", month="2026-12")
    assert december.status == 404 and december.body["closedThrough"] is None and december.body["field"] == "month"
    late = stated(closed._client, "acc-1", currency="EUR", **{"from": "2026-11-29", "to": "2026-12-01"})
    assert late.status == 400 and late.body["field"] == "to", "two months"
    partly = close(closed._client, "acc-1", ["EUR"], date(2026, 12, 3))
    december = stated(partly._client, "acc-1", currency="EUR", month="2026-12")
    assert december.status == 404 and december.body["closedThrough"] == "2026-12-03"
    assert december.body["error"] == "not_closed" and "closed through 2026-12-03" in december.body["message"]
    nobody = stated(closed._client, "acc-2", currency="EUR", month="2026-11")
    assert nobody.status == 404 and nobody.body["closedThrough"] is None


def test_a_month_whose_own_close_is_missing_says_so_and_its_days_are_answered(closed: DynamoHistory) -> None:
    """Reviewed: a run cut short between a month's last day and its month close left a 404 that said the
    days were not closed, though they were."""
    closed._client.delete_item(TableName=HISTORY, Key={"accountId": {"S": "acc-1"}, "period": {"S": "EUR#2026-11"}})
    close(closed._client, "acc-1", ["EUR"], date(2026, 12, 1))  # puts it back: the next run writes it
    closed._client.delete_item(TableName=HISTORY, Key={"accountId": {"S": "acc-1"}, "period": {"S": "EUR#2026-11"}})
    month = stated(closed._client, "acc-1", currency="EUR", month="2026-11")
    assert month.status == 404 and month.body["closedThrough"] == "2026-11-30"
    assert month.body["message"].startswith("the month's days are closed, its own close is not written yet")
    days = stated(closed._client, "acc-1", currency="EUR", **{"from": "2026-11-01", "to": "2026-11-30"})
    assert days.status == 200 and days.body["closing"] == "8.75"


def test_a_query_reads_the_days_asked_for_and_one_more(dynamodb: Any) -> None:
    """Reviewed: every query read 33 items, whatever the range, and a year-9999 day made DynamoDB refuse a
    BETWEEN whose low bound was above its high one (moto does not check it; the bound is checked here)."""
    one = stated(dynamodb, "acc-1", currency="EUR", **{"from": "2026-11-02", "to": "2026-11-02"})
    assert one.request["Limit"] == 2
    whole = stated(dynamodb, "acc-1", currency="EUR", **{"from": "2026-02-01", "to": "2026-02-28"})
    assert whole.request["Limit"] == 29
    month = stated(dynamodb, "acc-1", currency="EUR", month="9999-12")
    values = month.request["ExpressionAttributeValues"]
    assert month.request["Limit"] == 33 and values[":lo"]["S"] <= values[":hi"]["S"]
    last = stated(dynamodb, "acc-1", currency="EUR", **{"from": "9999-12-31", "to": "9999-12-31"})
    values = last.request["ExpressionAttributeValues"]
    assert values[":lo"]["S"] <= values[":hi"]["S"] and last.status == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"month": "2026-11"}, "currency"),
        ({"currency": "XXX", "month": "2026-11"}, "currency"),
        ({"currency": "eur", "month": "2026-11"}, "currency"),
        ({"currency": "EUR"}, "month"),
        ({"currency": "EUR", "month": "2026-11", "from": "2026-11-01"}, "month"),
        ({"currency": "EUR", "month": "2026-13"}, "month"),
        ({"currency": "EUR", "month": "0000-01"}, "month"),
        ({"currency": "EUR", "month": "2026-1"}, "month"),
        ({"currency": "EUR", "from": "2026-11-01"}, "to"),
        ({"currency": "EUR", "to": "2026-11-01"}, "from"),
        ({"currency": "EUR", "from": "2026-02-29", "to": "2026-02-28"}, "from"),
        ({"currency": "EUR", "from": "1900-02-29", "to": "1900-02-28"}, "from"),
        ({"currency": "EUR", "from": "2026-04-31", "to": "2026-04-30"}, "from"),
        ({"currency": "EUR", "from": "2026-02-01", "to": "2026-02-30"}, "to"),
        ({"currency": "EUR", "from": "2026-11-05", "to": "2026-11-04"}, "to"),
        ({"currency": "EUR", "from": "2026-11-30", "to": "2026-12-01"}, "to"),
        ({"currency": "EUR", "from": "2026-W45-1", "to": "2026-11-09"}, "from"),
        ({"currency": "EUR", "from": "2026-11-01", "to": "2026-11-01T00:00:00Z"}, "to"),
    ],
)
def test_a_question_that_cannot_be_asked_is_400_naming_its_field(
    dynamodb: Any, query: dict[str, str], field: str
) -> None:
    answer = stated(dynamodb, "acc-1", **query)
    assert answer.status == 400, answer.body
    assert answer.body["field"] == field


@pytest.mark.parametrize("day", ["2028-02-29", "2000-02-29", "2026-12-31", "2026-04-30"])
def test_days_that_exist_are_asked(dynamodb: Any, day: str) -> None:
    answer = stated(dynamodb, "acc-1", currency="EUR", **{"from": day, "to": day})
    assert answer.status == 404 and answer.body["error"] == "not_closed"


def test_a_statement_of_an_account_the_caller_does_not_hold_is_403(closed: DynamoHistory) -> None:
    query = {"currency": "EUR", "month": "2026-11"}
    mine = call(closed._client, "get_statement", {"accountId": "acc-1"}, query=query, claims={CLAIM: "acc-1"})
    assert mine.status == 200, mine.body
    theirs = call(closed._client, "get_statement", {"accountId": "acc-1"}, query=query, claims={CLAIM: "acc-2"})
    assert theirs.status == 403


def test_parameters_are_read_from_the_query_string_alone(closed: DynamoHistory) -> None:
    headers = {"currency": "EUR", "month": "2026-11"}
    answer = call(closed._client, "get_statement", {"accountId": "acc-1"}, query={}, headers=headers)
    assert answer.status == 400 and answer.body["field"] == "currency"


HISTORY_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["credit", "debit"]),
        st.integers(1, 10**6),
        st.sampled_from(["EUR", "JPY"]),
        st.integers(0, 40 * DAY_MS - 1),
    ),
    max_size=15,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(HISTORY_ROWS, st.data())
def test_every_statement_the_api_answers_is_ledger_ops_statement(
    tables: Any, rows: list[Any], data: st.DataObject
) -> None:
    client = emptied(tables)
    priced = [(k, str(Decimal(m).scaleb(0 if c == "JPY" else -2)), c, at) for k, m, c, at in rows]
    book(client, "acc-1", priced)
    through = OCTOBER_30 + timedelta(days=39)
    store = close(client, "acc-1", ["EUR", "JPY"], through)
    currency = data.draw(st.sampled_from(["EUR", "JPY"]))
    first = OCTOBER_30 + timedelta(days=data.draw(st.integers(-3, 39)))
    month_end = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    whole_month = data.draw(st.booleans())
    if whole_month:  # a month: its first day to its last
        first, last = first.replace(day=1), month_end
        answer = stated(client, "acc-1", currency=currency, month=str(first)[:7])
    else:
        last = min(first + timedelta(days=data.draw(st.integers(0, 30))), month_end)
        answer = stated(client, "acc-1", currency=currency, **{"from": str(first), "to": str(last)})
    closes: list[Close] = store.closes_between(("acc-1", currency), first, last)
    latest = store.last_day(("acc-1", currency))
    if latest is None or latest.day < last:
        assert answer.status == 404, answer.body
        assert answer.body["closedThrough"] == (closes[-1].period if closes else None)
        return
    assert answer.status == 200, answer.body
    if not closes:  # the range lies before the currency's first booked day
        assert answer.body["opening"] == answer.body["closing"] and Decimal(answer.body["opening"]) == 0
        assert statement_of_answer(answer.body) is None
        return
    same = statement(closes)
    assert statement_of_answer(answer.body) == same, "the client's sum of the answer is ledger-ops' statement"
    assert (Decimal(answer.body["opening"]), Decimal(answer.body["closing"])) == (same.opening, same.closing)
    assert [(d["day"], Decimal(d["closing"])) for d in answer.body["days"]] == [(c.period, c.closing) for c in closes]
    if whole_month:
        totals = answer.body["totals"]
        assert (Decimal(totals["credits"]), Decimal(totals["debits"])) == (same.totals.credits, same.totals.debits)
        assert totals["transactionCount"] == same.totals.count


def _listing_pages(client: Any, account: str, query: dict[str, str]) -> list[dict[str, Any]]:
    """Every page of the listing of ``query``, following nextToken."""
    listed: list[dict[str, Any]] = []
    token = ""
    for _ in range(100):
        answer = call(client, "list_transactions", {"accountId": account}, query={**query, "nextToken": token})
        assert answer.status == 200, answer.body
        listed += answer.body["transactions"]
        token = answer.body["nextToken"] or ""
        if not token:
            return listed
    raise AssertionError("the listing did not end in 100 pages")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(HISTORY_ROWS, st.data())
def test_the_balance_at_an_instant_from_the_apis_answers_is_the_fold_and_ledger_ops_balance(
    tables: Any, rows: list[Any], data: st.DataObject
) -> None:
    """The client function docs/api.md names (balance_at_answers) over what the API answers: the statement of
    the day before the instant's day, and every page of the listing of that day up to the instant in its
    currency. It equals the fold of the rows booked up to the instant, and the balance ledger-ops makes from
    the tables (balance_at over the store's close and rows)."""
    client = emptied(tables)
    priced = [(k, str(Decimal(m).scaleb(0 if c == "JPY" else -2)), c, at) for k, m, c, at in rows]
    book(client, "acc-1", priced)
    store = close(client, "acc-1", ["EUR", "JPY"], OCTOBER_30 + timedelta(days=39))
    currency = data.draw(st.sampled_from(["EUR", "JPY"]))
    instant = day_start_ms(OCTOBER_30) + data.draw(st.integers(DAY_MS, 40 * DAY_MS - 1))
    day = day_of(instant)
    before = str(day - timedelta(days=1))
    answer = stated(client, "acc-1", currency=currency, **{"from": before, "to": before})
    if answer.status == 404:  # the currency's closes begin after that day: ask again once one is closed
        assert store.last_day(("acc-1", currency)) is None
        return
    assert answer.status == 200, answer.body
    query = {"from": str(day_start_ms(day)), "to": str(instant), "currency": currency, "order": "oldest"}
    listed = _listing_pages(client, "acc-1", query)
    seal = 89_000
    made = balance_at_answers(answer.body, listed, instant, now_ms=instant + seal, seal_ms=seal)
    booked = [
        booked_row("acc-1", c, k, m, at_ms=day_start_ms(OCTOBER_30) + at, number=n)
        for n, (k, m, c, at) in enumerate(priced)
    ]
    assert made == fold_upto(booked, ("acc-1", currency), instant)
    closes = store.closes_between(("acc-1", currency), day - timedelta(days=1), day - timedelta(days=1))
    from_tables = balance_at(
        closes[0] if closes else None, store.rows("acc-1", day_start_ms(day), instant), currency, instant
    )
    assert made == from_tables
    with pytest.raises(HistoryError, match="seal margin"):
        balance_at_answers(answer.body, listed, instant, now_ms=instant + seal - 1, seal_ms=seal)
