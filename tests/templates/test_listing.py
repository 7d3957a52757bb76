"""GET /accounts/{accountId}/transactions with a range, an order and filters, rendered and run against moto.

Every page is one Query on the details table's index by recordedAt; what the pages return together is
compared with the rows the test wrote, filtered and ordered by Python (docs/api.md, "Listing").
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.aws import emptied
from tests.support.listing import in_booking_order
from tests.templates.test_templates import call

START = 1_767_225_600_000  # 2026-01-01T00:00:00Z in epoch milliseconds


def write(client: Any, account: str, rows: list[tuple[int, str, str]]) -> None:
    """Post one transaction per (milliseconds after START, type, currency), with ids r000, r001, ..."""
    for i, (after, kind, currency) in enumerate(rows):
        body = {"transactionId": f"r{i:03d}", "type": kind, "amount": "1", "currency": currency}
        answer = call(client, "create_transaction", {"accountId": account}, body, epoch=START + after)
        assert answer.status == 201, answer.body


def expected(rows: list[tuple[int, str, str]], query: dict[str, str]) -> list[tuple[int, str]]:
    """The (recordedAt, id) of each row the listing must return: Python's reading of docs/api.md."""
    low = int(query["from"]) if query.get("from") else None
    high = int(query["to"]) if query.get("to") else None
    return [
        (START + after, f"r{i:03d}")
        for i, (after, kind, currency) in enumerate(rows)
        if (low is None or START + after >= low)
        and (high is None or START + after <= high)
        and query.get("currency", "") in {"", currency}
        and query.get("type", "") in {"", kind}
    ]


def every_page(client: Any, account: str, query: dict[str, str]) -> tuple[list[str], int]:
    """The ids of every page of ``query``, following nextToken, and the number of pages."""
    seen: list[str] = []
    token: str | None = None
    for pages in range(1, 200):
        answer = call(client, "list_transactions", {"accountId": account}, query={**query, "nextToken": token or ""})
        assert answer.status == 200, answer.body
        seen += [t["transactionId"] for t in answer.body["transactions"]]
        token = answer.body["nextToken"]
        if token is None:
            return seen, pages
    raise AssertionError("the listing did not end in 200 pages")


ROWS = st.lists(
    st.tuples(st.integers(0, 40), st.sampled_from(["credit", "debit"]), st.sampled_from(["EUR", "USD", "JPY"])),
    max_size=25,
)
QUERIES = st.fixed_dictionaries(
    {},
    optional={
        "from": st.integers(0, 45).map(lambda ms: str(START + ms)),
        "to": st.integers(0, 45).map(lambda ms: str(START + ms)),
        "order": st.sampled_from(["newest", "oldest", ""]),
        "currency": st.sampled_from(["EUR", "JPY", ""]),
        "type": st.sampled_from(["credit", "debit", ""]),
        "limit": st.integers(1, 6).map(str),
    },
).filter(lambda q: not (q.get("from") and q.get("to") and int(q["to"]) < int(q["from"])))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS, query=QUERIES)
def test_the_pages_of_a_query_are_exactly_its_rows_in_its_order(tables: Any, rows: Any, query: Any) -> None:
    client = emptied(tables)
    write(client, "acc", rows)
    write(client, "acc-other", rows[:3])
    seen, _ = every_page(client, "acc", query)
    assert in_booking_order(seen, expected(rows, query), newest_first=query.get("order") != "oldest"), seen


def test_the_range_is_inclusive_at_both_ends_and_the_order_is_the_callers(dynamodb: Any) -> None:
    write(dynamodb, "acc", [(0, "credit", "EUR"), (10, "debit", "EUR"), (20, "credit", "EUR"), (30, "debit", "EUR")])
    query = {"from": str(START + 10), "to": str(START + 20)}
    assert every_page(dynamodb, "acc", query)[0] == ["r002", "r001"]
    assert every_page(dynamodb, "acc", {**query, "order": "oldest"})[0] == ["r001", "r002"]
    assert every_page(dynamodb, "acc", {"from": str(START + 30)})[0] == ["r003"]
    assert every_page(dynamodb, "acc", {"to": str(START + 0)})[0] == ["r000"]
    assert every_page(dynamodb, "acc", {"from": str(START + 5), "to": str(START + 5)})[0] == []


def test_a_filtered_page_reads_limit_rows_and_may_come_back_empty_with_a_token(dynamodb: Any) -> None:
    write(dynamodb, "acc", [(i, "credit", "EUR") for i in range(5)] + [(9, "debit", "USD")])
    first = call(dynamodb, "list_transactions", {"accountId": "acc"}, query={"currency": "USD", "limit": "3"})
    assert first.status == 200 and [t["transactionId"] for t in first.body["transactions"]] == ["r005"]
    assert first.request["Limit"] == 3 and first.request["FilterExpression"] == "#cu = :c"
    debits = {"type": "debit", "limit": "1", "order": "oldest"}
    empty = call(dynamodb, "list_transactions", {"accountId": "acc"}, query=debits)
    assert empty.body["transactions"] == [] and empty.body["nextToken"] is not None
    assert every_page(dynamodb, "acc", debits) == (["r005"], 6)


def test_the_plain_listings_token_is_still_its_position_alone(dynamodb: Any) -> None:
    write(dynamodb, "acc", [(1, "credit", "EUR"), (2, "credit", "EUR")])
    token = call(dynamodb, "list_transactions", {"accountId": "acc"}, query={"limit": "1"}).body["nextToken"]
    assert base64.urlsafe_b64decode(token).decode() == f"{START + 2}|r001"
    same = call(dynamodb, "list_transactions", {"accountId": "acc"}, query={"order": "newest", "nextToken": token})
    assert [t["transactionId"] for t in same.body["transactions"]] == ["r000"]


# The first page's query, and others to replay its token with: some bind a token of the same length.
FIRST = {"from": str(START), "to": str(START + 50), "currency": "EUR", "type": "credit"}
OTHER_QUERIES = [
    {**FIRST, "currency": "USD"},
    {**FIRST, "type": "debit"},
    {**FIRST, "to": str(START + 51)},
    {**FIRST, "order": "oldest"},
    {"order": "oldest"},
    {"from": str(START)},
    {"to": str(START + 50)},
    {"currency": "EUR"},
    {"type": "credit"},
    {"from": str(START), "to": str(START + 51)},
]


@pytest.mark.parametrize("first", [{}, FIRST])
@pytest.mark.parametrize("replayed", OTHER_QUERIES)
def test_a_token_replayed_with_another_query_is_400_and_reads_nothing(
    dynamodb: Any, first: dict[str, str], replayed: dict[str, str]
) -> None:
    write(dynamodb, "acc", [(i, "credit", "EUR") for i in range(4)])
    token = call(dynamodb, "list_transactions", {"accountId": "acc"}, query={**first, "limit": "1"}).body["nextToken"]
    assert token is not None
    answer = call(dynamodb, "list_transactions", {"accountId": "acc"}, query={**replayed, "nextToken": token})
    assert (answer.status, answer.body["field"]) == (400, "nextToken")
    assert answer.request["ExpressionAttributeValues"] == {":a": {"S": "invalid"}}


def _token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


BINDING = f"|newest|{START + 10}|{START + 20}||"
RANGE = {"from": str(START + 10), "to": str(START + 20)}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"from": "-1"}, "from"),
        ({"from": "01767225600000"}, "from"),
        ({"from": "1" * 16}, "from"),
        ({"to": "1.5"}, "to"),
        ({"to": "2026-01-01T00:00:00Z"}, "to"),
        ({"from": str(START + 1), "to": str(START)}, "to"),
        ({"from": "10", "to": "9"}, "to"),
        ({"from": "100", "to": "99"}, "to"),
        ({"order": "asc"}, "order"),
        ({"order": "OLDEST"}, "order"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "ABC"}, "currency"),
        ({"currency": "XAU"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"type": "transfer"}, "type"),
        ({"type": "Credit"}, "type"),
        ({**RANGE, "nextToken": _token(f"{START + 9}|r000{BINDING}")}, "nextToken"),
        ({**RANGE, "nextToken": _token(f"{START + 21}|r000{BINDING}")}, "nextToken"),
        ({**RANGE, "nextToken": _token(f"0{START + 15}|r000{BINDING}")}, "nextToken"),
        ({"nextToken": _token(f"{START}|r000|newest|||")}, "nextToken"),
        ({"nextToken": _token(f"{START}|r000|")}, "nextToken"),
    ],
)
def test_a_bad_range_order_filter_or_token_is_400_naming_it_and_reads_nothing(
    dynamodb: Any, query: dict[str, str], field: str
) -> None:
    answer = call(dynamodb, "list_transactions", {"accountId": "acc"}, query=query)
    assert (answer.status, answer.body["field"]) == (400, field)
    assert answer.request["ExpressionAttributeValues"] == {":a": {"S": "invalid"}}


def test_a_forged_token_in_range_and_bound_to_the_query_pages_from_its_position(dynamodb: Any) -> None:
    write(dynamodb, "acc", [(10, "credit", "EUR"), (15, "credit", "EUR"), (20, "credit", "EUR")])
    query = {**RANGE, "nextToken": _token(f"{START + 15}|r001{BINDING}")}
    answer = call(dynamodb, "list_transactions", {"accountId": "acc"}, query=query)
    assert [t["transactionId"] for t in answer.body["transactions"]] == ["r000"]


def test_headers_named_like_the_parameters_change_nothing(dynamodb: Any) -> None:
    write(dynamodb, "acc", [(1, "credit", "EUR"), (2, "debit", "USD")])
    headers = {"from": str(START + 2), "to": str(START + 1), "order": "bad", "currency": "USD", "type": "debit"}
    headers |= {"limit": "0", "nextToken": "!!!"}
    answer = call(dynamodb, "list_transactions", {"accountId": "acc"}, headers=headers)
    assert answer.status == 200 and [t["transactionId"] for t in answer.body["transactions"]] == ["r001", "r000"]
    assert "FilterExpression" not in answer.request and answer.request["KeyConditionExpression"] == "accountId = :a"
