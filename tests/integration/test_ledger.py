"""The deployed stack over HTTP: exact summaries, duplicates, bad input, poison, the pattern switch.

- 40 transactions over 5 accounts in EUR, USD and JPY: each summary equals the fold of the account's
  rows, per currency, read back from the details table.
- One account holding EUR, USD and JPY: three separate, exact balances (and `?currency=`); 1.5 JPY is
  400 naming `amount`, and nothing is written.
- A transfer: 201, both summaries move; its repeat is 409; one without an id gets the gateway's; the
  listing shows both legs' `transferId` and `counterpartyAccountId`.
- Money conserved per currency across the whole stack once settled (`reconcile --global`).
- A request with a hostile `X-Amzn-RequestId` and no `transactionId`: the id stored matches the
  pattern and the account still pages to its end.
- A repeated `transactionId`: 409 for the same request, 422 `idempotency_key_reused` for another
  body, counted once.
- Every bad value of the template tests, sent over HTTP: 400 naming the field, the details table
  unchanged; bad bodies (missing or unknown field, not JSON, not an object) 400, another media type
  415; an unsigned request 403.
- A poison item put straight into the details table: parked in the stream DLQ with its reason, its
  account and a neighbour still exact.
- After each apply, a second plan has no changes; the switch from pattern 1 to 2 has no table in its
  plan, and every earlier summary stays exact.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from harness.probes import eventually
from ledger_aggregator.domain import Totals
from ledger_ops.reconcile import reconcile_global
from tests.integration.conftest import Deployment, dlq_messages, settled
from tests.support.listing import in_booking_order
from tests.templates.test_templates import BAD_BODIES


def test_every_summary_equals_the_fold_of_its_details_rows(deployed: Deployment) -> None:
    rng = random.Random(deployed.pattern)
    accounts = [deployed.account(f"acct{i}") for i in range(5)]
    for i in range(40):
        currency = rng.choice(["EUR", "USD", "JPY"])
        cents = f".{rng.randint(0, 99):02d}" if currency != "JPY" else ""
        body = {
            "type": rng.choice(["credit", "debit"]),
            "amount": f"{rng.randint(1, 10**6)}{cents}",
            "currency": currency,
        }
        if i % 3:
            body["transactionId"] = f"tx-{i}"
        answer = deployed.api.post_transaction(accounts[i % 5], body)
        assert answer.status == 201, answer.text
    eventually(lambda: settled(deployed, accounts))
    assert sum(t.count for a in accounts for t in deployed.expected(a).values()) == 40


def test_one_account_keeps_an_exact_balance_per_currency_and_never_adds_them(deployed: Deployment) -> None:
    account = deployed.account("multi")
    for amount, currency, kind in [("100", "EUR", "credit"), ("100", "USD", "debit"), ("5000", "JPY", "debit")]:
        answer = deployed.api.post_transaction(account, {"type": kind, "amount": amount, "currency": currency})
        assert answer.status == 201, answer.text

    def all_three() -> dict[str, Totals] | None:
        found = deployed.summary(account)
        return found if found and len(found) == 3 else None

    balances = eventually(all_three)
    assert {c: t.balance for c, t in balances.items()} == {
        "EUR": Decimal(100),
        "JPY": Decimal(-5000),
        "USD": Decimal(-100),
    }
    only = deployed.api.summary(account, "JPY")
    assert only.status == 200 and [b["currency"] for b in only.body["balances"]] == ["JPY"]
    assert deployed.api.summary(account, "GBP").status == 404


def test_occurred_at_may_be_at_most_five_minutes_after_the_request(deployed: Deployment) -> None:
    account = deployed.account("clock")
    now = datetime.fromtimestamp(deployed.env.now(), UTC)  # the account's: a test may have moved its clock
    for minutes, status in ((4, 201), (6, 400)):
        at = (now + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"type": "credit", "amount": "1", "currency": "EUR", "occurredAt": at}
        answer = deployed.api.post_transaction(account, body)
        assert answer.status == status, (minutes, answer.text)
    assert len(deployed.rows(account)) == 1


def test_a_jpy_amount_with_decimals_is_400_and_writes_nothing(deployed: Deployment) -> None:
    account = deployed.account("yen")
    answer = deployed.api.post_transaction(account, {"type": "credit", "amount": "1.5", "currency": "JPY"})
    assert (answer.status, answer.body["field"]) == (400, "amount")
    assert deployed.rows(account) == []


def test_a_transfer_moves_both_summaries_and_its_repeat_is_409(deployed: Deployment) -> None:
    source, target = deployed.account("payer"), deployed.account("payee")
    assert deployed.api.post_transaction(source, {"type": "credit", "amount": "100", "currency": "EUR"}).status == 201
    transfer = {"toAccountId": target, "amount": "30.25", "currency": "EUR"}
    answer = deployed.api.post_transfer(source, {**transfer, "transferId": "rent-1"})
    assert (answer.status, answer.body) == (
        201,
        {"transferId": "rent-1", "fromAccountId": source, "toAccountId": target},
    )
    repeat = deployed.api.post_transfer(source, {**transfer, "transferId": "rent-1"})
    assert (repeat.status, repeat.body["field"]) == (409, "transferId")
    reused = deployed.api.post_transfer(source, {**transfer, "transferId": "rent-1", "amount": "1"})
    assert (reused.status, reused.body["error"], reused.body["field"]) == (422, "idempotency_key_reused", "transferId")
    generated = deployed.api.post_transfer(source, transfer)
    assert generated.status == 201 and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", generated.body["transferId"])
    eventually(lambda: settled(deployed, [source, target]))
    assert deployed.summary(source) == {"EUR": Totals(Decimal(100), Decimal("60.50"), 3)}
    assert deployed.summary(target) == {"EUR": Totals(Decimal("60.50"), Decimal(0), 2)}
    legs = deployed.api.transactions(target).body["transactions"]
    assert {(t["transferId"], t["counterpartyAccountId"]) for t in legs} == {
        ("rent-1", source),
        (generated.body["transferId"], source),
    }


def test_money_is_conserved_per_currency_once_settled(deployed: Deployment) -> None:
    tables = {k: deployed.outputs[f"{k}_table"]["name"] for k in ("details", "summary")}
    dynamodb = deployed.env.client("dynamodb")
    eventually(lambda: not reconcile_global(dynamodb, tables["details"], tables["summary"]), timeout=180)


def listed_once_complete(deployed: Deployment, account: str, query: str, rows: int) -> list[str]:
    """The ids of every page of a listing, once it holds at least ``rows`` of them: the index is read
    eventually consistently, so a row just written may not be listed yet."""

    def complete() -> list[str] | None:
        ids = deployed.api.listing(account, query).ids
        return ids if len(ids) >= rows else None

    return eventually(complete)


def test_a_range_of_booking_times_lists_its_filtered_rows_in_order_page_by_page(deployed: Deployment) -> None:
    """docs/api.md, Listing: one Query per page over [from, to]; a page may be short, and a token serves its
    own query only."""
    account = deployed.account("history")
    writes = [("credit", "EUR"), ("debit", "EUR"), ("debit", "USD"), ("credit", "USD"), ("debit", "EUR")]
    for i, (kind, currency) in enumerate([*writes, ("credit", "EUR")]):
        body = {"transactionId": f"h{i}", "type": kind, "amount": "1", "currency": currency}
        assert deployed.api.post_transaction(account, body).status == 201
    booked = sorted((int(r["recordedAt"]["N"]), r["transactionId"]["S"], r) for r in deployed.rows(account))
    low, high = booked[1][0], booked[-2][0]
    inside = [(at, ident, row) for at, ident, row in booked if low <= at <= high]
    debits_in_eur = [(at, i) for at, i, row in inside if row["type"]["S"] == "debit" and row["currency"]["S"] == "EUR"]
    query = f"from={low}&to={high}&order=oldest&currency=EUR&type=debit&limit=1"
    listed = listed_once_complete(deployed, account, query, len(debits_in_eur))
    assert in_booking_order(listed, debits_in_eur, newest_first=False), (listed, debits_in_eur)
    newest = listed_once_complete(deployed, account, f"from={low}&to={high}&limit=2", len(inside))
    assert in_booking_order(newest, [(at, ident) for at, ident, _ in inside], newest_first=True), (newest, inside)
    token = deployed.api.transactions(account, f"from={low}&to={high}&limit=1").body["nextToken"]
    replayed = deployed.api.transactions(account, f"from={low}&to={high}&order=oldest&nextToken={token}")
    assert (replayed.status, replayed.body["field"]) == (400, "nextToken")


def test_a_hostile_request_id_never_becomes_an_id_and_the_account_stays_pageable(deployed: Deployment) -> None:
    account = deployed.account("reqid")
    hostile = {"X-Amzn-RequestId": "a|b'c"}
    for i in range(3):
        body = {"type": "credit", "amount": f"{i + 1}", "currency": "EUR"}
        answer = deployed.api.request("POST", f"/accounts/{account}/transactions", body, hostile)
        assert answer.status == 201, answer.text
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", answer.body["transactionId"])
    ids = listed_once_complete(deployed, account, "limit=1", 3)
    assert len(ids) == 3 and all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i) for i in ids)
    assert {r["requestId"]["S"] for r in deployed.rows(account)} == {"a|b'c"}, "kept only as audit text"


def test_a_duplicate_transaction_id_is_409_and_counted_once(deployed: Deployment) -> None:
    account = deployed.account("dup")
    body = {"transactionId": "once", "type": "credit", "amount": "10.10", "currency": "EUR"}
    assert deployed.api.post_transaction(account, body).status == 201
    again = deployed.api.post_transaction(account, body)
    assert again.status == 409 and again.body["field"] == "transactionId"
    reused = deployed.api.post_transaction(account, {**body, "amount": "99"})
    assert (reused.status, reused.body["error"]) == (422, "idempotency_key_reused")
    assert eventually(lambda: deployed.summary(account)) == {"EUR": Totals(Decimal("10.10"), Decimal(0), 1)}
    assert len(deployed.rows(account)) == 1


HTTP_BAD = [(path, body, field) for path, body, field in BAD_BODIES if path["accountId"]]  # "" has no route


@pytest.mark.parametrize(("path", "body", "field"), HTTP_BAD)
def test_bad_input_over_http_is_400_naming_the_field_and_writes_nothing(
    deployed: Deployment, path: dict[str, str], body: Any, field: str
) -> None:
    account = path["accountId"] if path["accountId"] != "acc" else deployed.account("bad")
    answer = deployed.api.post_transaction(account, body)
    assert answer.status == 400, answer.text
    assert answer.body["field"] == field
    assert deployed.rows(account) == []


@pytest.mark.parametrize(
    ("body", "headers", "status", "field"),
    [
        ({"type": "credit", "currency": "EUR"}, {}, 400, "amount"),
        ({"type": "credit", "amount": "1"}, {}, 400, "currency"),
        ({"type": "credit", "amount": "1", "currency": "EUR", "colour": "red"}, {}, 400, "colour"),
        ("not json", {}, 400, "body"),
        ("[1, 2]", {}, 400, "body"),
        ('{"type": "credit", "amount": "1", "currency": "EUR"}', {"Content-Type": "text/plain"}, 415, None),
    ],
)
def test_refused_bodies_are_json_errors_and_write_nothing(
    deployed: Deployment, body: Any, headers: dict[str, str], status: int, field: str | None
) -> None:
    account = deployed.account("body")
    answer = deployed.api.request("POST", f"/accounts/{account}/transactions", body, headers)
    assert answer.status == status, answer.text
    assert isinstance(answer.body, dict) and answer.body.get("field") == field
    assert deployed.rows(account) == []


def test_an_unsigned_request_is_refused(deployed: Deployment) -> None:
    from harness.client import LedgerClient

    unsigned = LedgerClient(deployed.api.base_url, deployed.env.region, sign=False)
    answer = unsigned.summary(deployed.account("anyone"))
    assert answer.status == 403 and isinstance(answer.body, dict)


def test_a_poison_item_reaches_the_dlq_with_its_reason_and_the_rest_is_exact(deployed: Deployment) -> None:
    account, neighbour = deployed.account("poisoned"), deployed.account("neighbour")
    assert deployed.api.post_transaction(account, {"type": "credit", "amount": "5", "currency": "EUR"}).status == 201
    deployed.env.client("dynamodb").put_item(
        TableName=deployed.outputs["details_table"]["name"],
        Item={
            "accountId": {"S": account},
            "transactionId": {"S": "poison"},
            "type": {"S": "credit"},
            "amount": {"S": "abc"},
            "currency": {"S": "EUR"},
        },
    )
    assert deployed.api.post_transaction(account, {"type": "debit", "amount": "2", "currency": "EUR"}).status == 201
    assert deployed.api.post_transaction(neighbour, {"type": "credit", "amount": "7", "currency": "EUR"}).status == 201
    parked = eventually(lambda: find_parked(deployed, account))
    assert parked["reason"] == "NewImage: amount is not of DynamoDB type N" and parked["field"] == "amount"
    eventually(lambda: settled(deployed, [account, neighbour]))
    assert deployed.summary(account) == {"EUR": Totals(Decimal(5), Decimal(2), 2)}


def find_parked(deployed: Deployment, account: str) -> dict[str, Any] | None:
    for body in dlq_messages(deployed, deployed.outputs["stream_dlq_url"]):
        keys = body.get("record", {}).get("dynamodb", {}).get("Keys", {})
        if keys.get("accountId", {}).get("S") == account:
            return dict(body)
    return None


def test_a_second_plan_has_no_changes(deployed: Deployment) -> None:
    assert deployed.env.stack.plan(deployed.pattern) == []


def test_switching_patterns_keeps_every_table_and_every_amount(deployed: Deployment) -> None:
    account = deployed.account("switch")
    before = deployed.env.posted
    assert deployed.api.post_transaction(account, {"type": "credit", "amount": "3.33", "currency": "EUR"}).status == 201
    eventually(lambda: settled(deployed, [account, *before]))
    before[account] = deployed.expected(account)
    if deployed.switch_changes is None:
        return  # the session's first deployment: its accounts are checked again after the switch
    changed_tables = [address for address, _ in deployed.switch_changes if "aws_dynamodb_table" in address]
    assert changed_tables == []
    assert all(deployed.summary(a) == totals for a, totals in before.items())
