"""The balance guard in the money templates: each row and its balance item in one transaction, a debit
past the floor refused with 422 and nothing written, a balance not yet seeded refused with 503."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_ops.guard import Seeded, balance_differences, balance_item, seed_balances
from tests.support.aws import BALANCES, DETAILS, SUMMARY
from tests.templates.test_templates import call, items

INITIALISED = {"detailsTable": DETAILS, "summaryTable": SUMMARY, "balancesTable": BALANCES, "guardInitialised": "true"}
SEEDING = {**INITIALISED, "guardInitialised": "false"}
ALICE = {"accountId": "alice"}


def post(client: Any, kind: str, amount: str, txid: str, stage: dict[str, str] = INITIALISED, **more: Any) -> Any:
    body = {"transactionId": txid, "type": kind, "amount": amount, "currency": "EUR", **more}
    return call(client, "create_transaction", ALICE, body, request_id=f"req-{txid}", stage=stage)


def balance(client: Any, account: str = "alice", currency: str = "EUR") -> dict[str, Any] | None:
    item = client.get_item(TableName=BALANCES, Key={"accountId": {"S": account}, "currency": {"S": currency}})
    if "Item" not in item:
        return None
    found = item["Item"]
    return {
        k: Decimal(v["N"]) if "N" in v else v.get("BOOL")
        for k, v in found.items()
        if k not in ("accountId", "currency")
    }


def held(client: Any, account: str = "alice", currency: str = "EUR") -> dict[str, Any]:
    """The balance item, which the test expects to exist."""
    found = balance(client, account, currency)
    assert found is not None, f"no balance item for {account}/{currency}"
    return found


def seed(client: Any, available: str, limit: str = "0", account: str = "alice") -> None:
    """A balance item as ledger-ops guard init and an operator's limit leave it."""
    headroom = str(Decimal(available) + Decimal(limit))
    client.put_item(
        TableName=BALANCES,
        Item={
            "accountId": {"S": account},
            "currency": {"S": "EUR"},
            "available": {"N": available},
            "headroom": {"N": headroom},
            "overdraftLimit": {"N": limit},
            "seeded": {"BOOL": True},
        },
    )


def test_a_guarded_credit_writes_its_row_and_counts_it_in_one_transaction(dynamodb: Any) -> None:
    answer = post(dynamodb, "credit", "20.50", "t1")
    assert (answer.status, answer.body) == (201, {"accountId": "alice", "transactionId": "t1"})
    assert [list(i) for i in answer.request["TransactItems"]] == [["Update"], ["Update"]]
    (row,) = items(dynamodb)
    assert row["guarded"] == {"BOOL": True} and row["amount"] == {"N": "20.50"}
    assert balance(dynamodb) == {"available": Decimal("20.5"), "headroom": Decimal("20.5"), "seeded": True}


def test_a_debit_within_the_funds_is_written_and_counted(dynamodb: Any) -> None:
    seed(dynamodb, "30")
    assert post(dynamodb, "debit", "30.00", "t1").status == 201
    assert balance(dynamodb) == {"available": 0, "headroom": 0, "overdraftLimit": 0, "seeded": True}


@pytest.mark.parametrize(("available", "limit"), [("10", "0"), ("0", "29.99"), ("-5", "34.99")])
def test_a_debit_past_the_floor_is_422_and_writes_nothing(dynamodb: Any, available: str, limit: str) -> None:
    seed(dynamodb, available, limit)
    before = balance(dynamodb)
    answer = post(dynamodb, "debit", "30.00", "t1")
    assert answer.status == 422
    assert answer.body == {"error": "insufficient_funds", "message": answer.body["message"], "field": "amount"}
    assert available not in answer.body["message"] and limit not in answer.body["message"], "no balance is shown"
    assert items(dynamodb) == [] and balance(dynamodb) == before


def test_an_overdraft_limit_lowers_the_floor(dynamodb: Any) -> None:
    seed(dynamodb, "10", limit="20")
    assert post(dynamodb, "debit", "30.00", "t1").status == 201
    assert post(dynamodb, "debit", "0.01", "t2").status == 422
    assert balance(dynamodb) == {"available": -20, "headroom": 0, "overdraftLimit": 20, "seeded": True}


def test_a_debit_of_an_account_never_credited_is_insufficient_once_the_guard_is_initialised(dynamodb: Any) -> None:
    answer = post(dynamodb, "debit", "1", "t1")
    assert (answer.status, answer.body["error"]) == (422, "insufficient_funds")
    assert items(dynamodb) == [] and balance(dynamodb) is None


def test_until_the_guard_is_initialised_a_balance_is_not_seeded_and_its_debits_are_503(dynamodb: Any) -> None:
    assert post(dynamodb, "credit", "50", "t1", stage=SEEDING).status == 201
    assert balance(dynamodb) == {"available": 50, "headroom": 50, "seeded": False}
    answer = post(dynamodb, "debit", "1", "t2", stage=SEEDING)
    assert (answer.status, answer.body["error"], answer.body["field"]) == (503, "balance_not_initialised", "currency")
    assert [i["transactionId"]["S"] for i in items(dynamodb)] == ["t1"]
    assert post(dynamodb, "debit", "1", "t3", stage=SEEDING | {"guardInitialised": "true"}).status == 503, (
        "an item created before the guard was initialised stays unseeded until guard init seeds it"
    )


def test_a_repeated_guarded_write_is_409_and_counted_once(dynamodb: Any) -> None:
    seed(dynamodb, "100")
    assert post(dynamodb, "debit", "30", "t1").status == 201
    again = post(dynamodb, "debit", "30", "t1")
    assert (again.status, again.body["error"], again.body["field"]) == (409, "conflict", "transactionId")
    reused = post(dynamodb, "debit", "31", "t1")
    assert (reused.status, reused.body["error"], reused.body["field"]) == (
        422,
        "idempotency_key_reused",
        "transactionId",
    )
    assert held(dynamodb)["available"] == 70


def test_a_repeated_debit_is_409_even_when_the_funds_are_gone(dynamodb: Any) -> None:
    seed(dynamodb, "30")
    assert post(dynamodb, "debit", "30", "t1").status == 201
    assert post(dynamodb, "debit", "30", "t1").status == 409, "a repetition is answered as one, not as a new debit"


def transfer(client: Any, amount: str, transfer_id: str) -> Any:
    body = {"transferId": transfer_id, "toAccountId": "bob", "amount": amount, "currency": "EUR"}
    return call(client, "create_transfer", ALICE, body, request_id=f"req-{transfer_id}", stage=INITIALISED)


def test_a_guarded_transfer_debits_the_payer_and_credits_the_payee(dynamodb: Any) -> None:
    seed(dynamodb, "40")
    answer = transfer(dynamodb, "25.50", "x1")
    assert answer.status == 201
    assert len(answer.request["TransactItems"]) == 4
    assert held(dynamodb)["available"] == Decimal("14.5")
    assert balance(dynamodb, "bob") == {"available": Decimal("25.5"), "headroom": Decimal("25.5"), "seeded": True}
    assert {i["transactionId"]["S"]: i["guarded"] for i in items(dynamodb)} == {
        "x1": {"BOOL": True},
        "alice:x1": {"BOOL": True},
    }


def test_a_transfer_past_the_payers_floor_is_422_and_writes_neither_leg_nor_balance(dynamodb: Any) -> None:
    seed(dynamodb, "25.49")
    answer = transfer(dynamodb, "25.50", "x1")
    assert (answer.status, answer.body["error"], answer.body["field"]) == (422, "insufficient_funds", "amount")
    assert items(dynamodb) == [] and balance(dynamodb, "bob") is None
    assert held(dynamodb)["available"] == Decimal("25.49")


def test_a_repeated_guarded_transfer_is_409(dynamodb: Any) -> None:
    seed(dynamodb, "100")
    assert transfer(dynamodb, "10", "x1").status == 201
    again = transfer(dynamodb, "10", "x1")
    assert (again.status, again.body["field"]) == (409, "transferId")
    assert held(dynamodb)["available"] == 90 and held(dynamodb, "bob")["available"] == 10


# --- overdraft limits: PUT /accounts/{accountId}/limits, an operator's operation -----------------


def set_limit(client: Any, limit: Any, currency: Any = "EUR", stage: dict[str, str] = INITIALISED, **more: Any) -> Any:
    body = {"currency": currency, "overdraftLimit": limit, **more}
    return call(client, "set_limits", ALICE, body, stage=stage)


def test_a_limit_sets_the_floor_from_the_balance_as_it_stands(dynamodb: Any) -> None:
    seed(dynamodb, "10")
    answer = set_limit(dynamodb, "50")
    assert (answer.status, answer.body) == (200, {"accountId": "alice", "currency": "EUR", "overdraftLimit": "50.00"})
    assert balance(dynamodb) == {"available": 10, "headroom": 60, "overdraftLimit": 50, "seeded": True}
    assert post(dynamodb, "debit", "60.01", "t1").status == 422
    assert post(dynamodb, "debit", "60", "t2").status == 201
    assert balance(dynamodb) == {"available": -50, "headroom": 0, "overdraftLimit": 50, "seeded": True}


def test_a_limit_lowered_below_what_is_used_refuses_new_debits_and_takes_nothing_back(dynamodb: Any) -> None:
    seed(dynamodb, "-20", limit="20")
    assert set_limit(dynamodb, "5").status == 200
    assert balance(dynamodb) == {"available": -20, "headroom": -15, "overdraftLimit": 5, "seeded": True}
    assert post(dynamodb, "debit", "0.01", "t1").status == 422
    assert post(dynamodb, "credit", "16", "t2").status == 201
    assert post(dynamodb, "debit", "1.01", "t3").status == 422
    assert post(dynamodb, "debit", "1", "t4").status == 201
    assert balance(dynamodb) == {"available": -5, "headroom": 0, "overdraftLimit": 5, "seeded": True}
    assert set_limit(dynamodb, "0").status == 200, "a zero limit puts the floor back at 0"
    assert held(dynamodb)["headroom"] == -5


@pytest.mark.parametrize(("stage", "seeded", "debit"), [(INITIALISED, True, 201), (SEEDING, False, 503)])
def test_a_limit_for_a_balance_never_written_creates_its_item_as_a_credit_would(
    dynamodb: Any, stage: dict[str, str], seeded: bool, debit: int
) -> None:
    assert set_limit(dynamodb, "5000", currency="JPY", stage=stage).body["overdraftLimit"] == "5000"
    item = balance(dynamodb, currency="JPY")
    assert item == {"headroom": 5000, "overdraftLimit": 5000, "seeded": seeded}
    body = {"transactionId": "t1", "type": "debit", "amount": "5000", "currency": "JPY"}
    assert call(dynamodb, "create_transaction", ALICE, body, stage=stage).status == debit


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"currency": "XXX", "overdraftLimit": "1"}, "currency"),
        ({"currency": "eur", "overdraftLimit": "1"}, "currency"),
        ({"overdraftLimit": "1"}, "currency"),
        ({"currency": "EUR"}, "overdraftLimit"),
        ({"currency": "EUR", "overdraftLimit": 1}, "overdraftLimit"),
        ({"currency": "EUR", "overdraftLimit": "-1"}, "overdraftLimit"),
        ({"currency": "EUR", "overdraftLimit": "1.001"}, "overdraftLimit"),
        ({"currency": "JPY", "overdraftLimit": "1.5"}, "overdraftLimit"),
        ({"currency": "EUR", "overdraftLimit": "1234567890123456"}, "overdraftLimit"),
        ({"currency": "EUR", "overdraftLimit": "01"}, "overdraftLimit"),
        ({"currency": "EUR", "overdraftLimit": "1", "available": "9"}, "available"),
    ],
)
def test_a_bad_limit_is_400_naming_the_field_and_writes_nothing(dynamodb: Any, body: Any, field: str) -> None:
    seed(dynamodb, "10", limit="3")
    before = balance(dynamodb)
    answer = call(dynamodb, "set_limits", ALICE, body, stage=INITIALISED)
    assert (answer.status, answer.body["field"]) == (400, field), answer.body
    assert balance(dynamodb) == before


@pytest.mark.parametrize(
    ("limit", "currency", "shown"),
    [
        ("0", "EUR", "0.00"),
        ("0.5", "EUR", "0.50"),
        ("999999999999999", "JPY", "999999999999999"),
        ("0.125", "KWD", "0.125"),
    ],
)
def test_every_limit_of_the_currencys_minor_unit_is_taken(dynamodb: Any, limit: str, currency: str, shown: str) -> None:
    answer = set_limit(dynamodb, limit, currency=currency)
    assert (answer.status, answer.body["overdraftLimit"]) == (200, shown)
    assert held(dynamodb, currency=currency)["overdraftLimit"] == Decimal(limit)


def test_under_cognito_no_token_sets_limits_unless_the_operation_is_granted(dynamodb: Any) -> None:
    body = {"currency": "EUR", "overdraftLimit": "5"}
    claims = {"custom:accounts": "alice", "custom:operator": "alice"}
    refused = call(dynamodb, "set_limits", ALICE, body, claims=claims, stage=INITIALISED)
    assert (refused.status, refused.body["error"]) == (403, "forbidden"), "no default grant includes limits"
    grants = {
        "read": "custom:accounts",
        "transfer": "custom:accounts",
        "post": "custom:accounts",
        "limits": "custom:operator",
    }
    other = call(dynamodb, "set_limits", {"accountId": "bob"}, body, claims=claims, grants=grants, stage=INITIALISED)
    assert other.status == 403 and balance(dynamodb, "bob") is None
    assert call(dynamodb, "set_limits", ALICE, body, claims=claims, grants=grants, stage=INITIALISED).status == 200
    assert balance(dynamodb) == {"headroom": 5, "overdraftLimit": 5, "seeded": True}


# --- switching the guard on for a ledger with history: ledger-ops guard init ---------------------


UNGUARDED = {"detailsTable": DETAILS, "summaryTable": SUMMARY}


def test_guard_init_seeds_the_history_once_while_guarded_writes_go_on(dynamodb: Any) -> None:
    # Before the guard: rows the balance items have never seen, one of them poison (never counted).
    assert post(dynamodb, "credit", "100", "h1", stage=UNGUARDED).status == 201
    assert post(dynamodb, "debit", "30", "h2", stage=UNGUARDED).status == 201
    dynamodb.put_item(
        TableName=DETAILS,
        Item={
            "accountId": {"S": "alice"},
            "transactionId": {"S": "bad"},
            "type": {"S": "credit"},
            "amount": {"S": "abc"},
            "currency": {"S": "EUR"},
            "recordedAt": {"N": "1"},
        },
    )
    # The guard is on, not yet initialised: credits count, debits wait for the seed.
    assert post(dynamodb, "credit", "5", "g1", stage=SEEDING).status == 201
    assert post(dynamodb, "debit", "1", "g2", stage=SEEDING).status == 503
    rows = dynamodb.scan(TableName=DETAILS)["Items"]
    items = dynamodb.scan(TableName=BALANCES)["Items"]
    assert balance_differences(rows, items) == [], "an unseeded item holds its guarded rows only"
    # A guarded write lands between the scan guard init reads and its update: it is counted once.
    assert post(dynamodb, "credit", "7", "g3", stage=SEEDING).status == 201
    assert seed_balances(dynamodb, BALANCES, rows, items) == Seeded(seeded=1, already=0)
    assert balance(dynamodb) == {"available": 82, "headroom": 82, "seeded": True}
    assert seed_balances(dynamodb, BALANCES, rows, items) == Seeded(seeded=0, already=1), "a second run adds nothing"
    assert post(dynamodb, "debit", "82.01", "g4", stage=INITIALISED).status == 422
    assert post(dynamodb, "debit", "82", "g5", stage=INITIALISED).status == 201
    everything = dynamodb.scan(TableName=DETAILS)["Items"]
    assert balance_differences(everything, dynamodb.scan(TableName=BALANCES)["Items"]) == []


def test_reconcile_finds_a_balance_item_that_is_not_its_rows(dynamodb: Any) -> None:
    assert post(dynamodb, "credit", "10", "t1").status == 201
    dynamodb.update_item(
        TableName=BALANCES,
        Key={"accountId": {"S": "alice"}, "currency": {"S": "EUR"}},
        UpdateExpression="ADD headroom :n",
        ExpressionAttributeValues={":n": {"N": "1"}},
    )
    dynamodb.put_item(
        TableName=DETAILS,
        Item={
            "accountId": {"S": "bob"},
            "transactionId": {"S": "around"},
            "type": {"S": "credit"},
            "amount": {"N": "4"},
            "currency": {"S": "EUR"},
            "recordedAt": {"N": "1"},
        },
    )
    found = balance_differences(dynamodb.scan(TableName=DETAILS)["Items"], dynamodb.scan(TableName=BALANCES)["Items"])
    assert [(d.key, d.problems) for d in found] == [
        (("alice", "EUR"), ("headroom 11 is not available + overdraftLimit (10)",)),
        (("bob", "EUR"), ("no balance item, but rows: run ledger-ops guard init",)),
    ]


# --- the guard's invariants over any sequence of money writes -----------------------------------

ACCOUNTS = ["alice", "bob", "carol"]
LIMITS = ["0", "10", "25.50"]
operation = st.tuples(
    st.sampled_from(["credit", "debit", "transfer", "limits"]),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(ACCOUNTS),
    st.integers(min_value=1, max_value=5000).map(lambda cents: f"{cents // 100}.{cents % 100:02d}"),
    st.integers(min_value=0, max_value=5),  # the id: a small range, so that some writes repeat an id
)


def everything(client: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return client.scan(TableName=DETAILS)["Items"], client.scan(TableName=BALANCES)["Items"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    limits=st.lists(st.sampled_from(LIMITS), min_size=3, max_size=3),
    operations=st.lists(operation, max_size=12),
)
def test_no_balance_ends_below_its_floor_and_every_answer_is_what_was_written(
    dynamodb: Any, limits: list[str], operations: list[tuple[str, str, str, str, int]]
) -> None:
    for table in (DETAILS, BALANCES):  # hypothesis reuses the fixture's tables across examples
        for item in dynamodb.scan(TableName=table)["Items"]:
            key = {
                k: item[k] for k in (("accountId", "transactionId") if table == DETAILS else ("accountId", "currency"))
            }
            dynamodb.delete_item(TableName=table, Key=key)
    for account, limit in zip(ACCOUNTS, limits, strict=True):
        seed(dynamodb, "0", limit, account)
    floors = {a: -Decimal(limit) for a, limit in zip(ACCOUNTS, limits, strict=True)}
    for kind, account, other, amount, number in operations:
        before = everything(dynamodb)
        if kind == "limits":  # an operator moves the floor, up or down, between the writes
            limit = LIMITS[number % len(LIMITS)]
            body = {"currency": "EUR", "overdraftLimit": limit}
            assert call(dynamodb, "set_limits", {"accountId": account}, body, stage=INITIALISED).status == 200
            floors[account] = -Decimal(limit)
            assert balance_differences(*everything(dynamodb)) == []
            continue
        if kind == "transfer":
            body = {"transferId": f"x{number}", "toAccountId": other, "amount": amount, "currency": "EUR"}
            answer = call(dynamodb, "create_transfer", {"accountId": account}, body, stage=INITIALISED)
        else:
            body = {"transactionId": f"t{number}", "type": kind, "amount": amount, "currency": "EUR"}
            answer = call(dynamodb, "create_transaction", {"accountId": account}, body, stage=INITIALISED)
        after = everything(dynamodb)
        if answer.status == 201:
            ids = {(i["accountId"]["S"], i["transactionId"]["S"]) for i in after[0]}
            wanted = {(account, body.get("transactionId", body.get("transferId")))}
            if kind == "transfer":
                wanted.add((other, f"{account}:{body['transferId']}"))
            assert wanted <= ids and len(after[0]) == len(before[0]) + len(wanted)
            if kind != "credit":
                payer = {b.key: b for b in map(balance_item, after[1])}[(account, "EUR")]
                assert payer.available >= floors[account], "no debit takes a balance below its floor"
        else:
            assert answer.status in (400, 409, 422), answer.body
            assert after == before, f"a {answer.status} wrote nothing"
            if answer.body["error"] == "insufficient_funds":
                payer = {b.key: b for b in map(balance_item, before[1])}[(account, "EUR")]
                assert payer.available - Decimal(amount) < floors[account], "a refusal is for want of funds only"
        assert balance_differences(*after) == []
