"""The balance guard in the money templates: each row and its balance item in one transaction, a debit
past the floor refused with 422 and nothing written, a balance not yet seeded in the guard's epoch refused
with 503; guard init's seeding; and the guard switched off and on again, any number of times."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_aggregator.domain import fold
from ledger_ops.guard import (
    EpochChangedError,
    GuardState,
    Initialised,
    Reads,
    Seeded,
    balance_differences,
    balance_item,
    guard_state,
    initialise,
    seed_balances,
)
from tests.support.aws import BALANCES, DETAILS, SUMMARY
from tests.templates.test_templates import call, items

EPOCH = "0a1b2c3d4e5f"  # the guard's epoch, as Terraform names it (modules/api/guard.tf)
# The stage variables with the guard on: the epoch seeded by guard init (initialised), and not yet.
INITIALISED = {
    "detailsTable": DETAILS,
    "summaryTable": SUMMARY,
    "balancesTable": BALANCES,
    "guardEpoch": EPOCH,
    "guardInitialised": EPOCH,
}
SEEDING = {k: v for k, v in INITIALISED.items() if k != "guardInitialised"}
ALICE = {"accountId": "alice"}


def post(client: Any, kind: str, amount: str, txid: str, stage: dict[str, str] = INITIALISED, **more: Any) -> Any:
    body = {"transactionId": txid, "type": kind, "amount": amount, "currency": "EUR", **more}
    return call(client, "create_transaction", ALICE, body, request_id=f"req-{txid}", stage=stage)


def balance(client: Any, account: str = "alice", currency: str = "EUR") -> dict[str, Any] | None:
    item = client.get_item(TableName=BALANCES, Key={"accountId": {"S": account}, "currency": {"S": currency}})
    if "Item" not in item:
        return None
    found = item["Item"]
    assert found.get("epoch") == {"S": EPOCH}, "every item the templates write is of the stage's epoch"
    return {
        k: Decimal(v["N"]) if "N" in v else v.get("BOOL")
        for k, v in found.items()
        if k not in ("accountId", "currency", "epoch")
    }


def held(client: Any, account: str = "alice", currency: str = "EUR") -> dict[str, Any]:
    """The balance item, which the test expects to exist."""
    found = balance(client, account, currency)
    assert found is not None, f"no balance item for {account}/{currency}"
    return found


def seed(
    client: Any, available: str, limit: str = "0", account: str = "alice", more: dict[str, Any] | None = None
) -> None:
    """A balance item as ledger-ops guard init and an operator's limit leave it (with ``more`` attributes)."""
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
            "epoch": {"S": EPOCH},
        }
        | (more or {}),
    )


def test_a_guarded_credit_writes_its_row_and_counts_it_in_one_transaction(dynamodb: Any) -> None:
    answer = post(dynamodb, "credit", "20.50", "t1")
    assert (answer.status, answer.body) == (201, {"accountId": "alice", "transactionId": "t1"})
    assert [list(i) for i in answer.request["TransactItems"]] == [["Update"], ["Update"]]
    (row,) = items(dynamodb)
    assert row["guardEpoch"] == {"S": EPOCH} and row["amount"] == {"N": "20.50"}
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
    assert {i["transactionId"]["S"]: i["guardEpoch"] for i in items(dynamodb)} == {
        "x1": {"S": EPOCH},
        "alice:x1": {"S": EPOCH},
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


BAD_LIMITS = [
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
]


@pytest.mark.parametrize(("body", "field"), BAD_LIMITS)
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
    assert balance_differences(rows, items, EPOCH) == [], "an unseeded item holds its rows of the epoch only"
    # A guarded write lands between the scan guard init reads and its update: it is counted once.
    assert post(dynamodb, "credit", "7", "g3", stage=SEEDING).status == 201
    assert seed_balances(dynamodb, BALANCES, rows, items, EPOCH) == Seeded(seeded=1)
    assert balance(dynamodb) == {"available": 82, "headroom": 82, "seeded": True}
    assert seed_balances(dynamodb, BALANCES, rows, items, EPOCH) == Seeded(already=1), "a second run adds nothing"
    assert post(dynamodb, "debit", "82.01", "g4", stage=INITIALISED).status == 422
    assert post(dynamodb, "debit", "82", "g5", stage=INITIALISED).status == 201
    everything = dynamodb.scan(TableName=DETAILS)["Items"]
    assert balance_differences(everything, dynamodb.scan(TableName=BALANCES)["Items"], EPOCH) == []


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
    found = balance_differences(*everything(dynamodb), EPOCH)
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
            assert balance_differences(*everything(dynamodb), EPOCH) == []
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
        assert balance_differences(*after, EPOCH) == []


# --- the guard switched off and on again: each switch a new epoch, guard init carrying every item over ---


class Switched:
    """A stack's stage as Terraform and ``ledger-ops guard init`` leave it, and its API: the guard switched on
    (Terraform sets the table and a new epoch), off (Terraform removes both; guardInitialised, which is not
    Terraform's, stays), and initialised by guard init (``initialise``, through this object as the stage)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.variables = dict(UNGUARDED)
        self.epochs = 0

    def on(self) -> None:
        self.epochs += 1
        self.variables.update(balancesTable=BALANCES, guardEpoch=f"{self.epochs:012x}")

    def off(self) -> None:
        self.variables.pop("balancesTable")
        self.variables.pop("guardEpoch")

    def read(self) -> GuardState:
        return guard_state(self.variables)

    def mark_initialised(self, epoch: str) -> None:
        self.variables["guardInitialised"] = epoch

    def init(self) -> Initialised:
        reads = Reads(
            rows=lambda: self.client.scan(TableName=DETAILS)["Items"],
            items=lambda table: self.client.scan(TableName=table)["Items"],
            now=lambda: datetime.now(UTC),
            wait=lambda seconds: None,
        )
        return initialise(self.client, self, reads, settle=0)

    def post(self, account: str, kind: str, amount: str, txid: str) -> int:
        body = {"transactionId": txid, "type": kind, "amount": amount, "currency": "EUR"}
        return int(call(self.client, "create_transaction", {"accountId": account}, body, stage=self.variables).status)

    def limit(self, account: str, limit: str) -> int:
        body = {"currency": "EUR", "overdraftLimit": limit}
        return int(call(self.client, "set_limits", {"accountId": account}, body, stage=self.variables).status)

    def net(self, account: str) -> Decimal:
        rows = [r for r in self.client.scan(TableName=DETAILS)["Items"] if r["accountId"]["S"] == account]
        return fold(rows)[(account, "EUR")].totals.balance if rows else Decimal(0)

    def exact(self) -> bool:
        """Every balance item of the epoch equals the fold of its rows (the guard on and initialised)."""
        epoch = self.variables["guardEpoch"]
        return balance_differences(*everything(self.client), epoch) == []


def test_rows_counted_in_an_earlier_epoch_are_counted_again_after_off_and_on(dynamodb: Any) -> None:
    """Issue 33, account U: credited while guarded; after off -> on it was refused a debit of its own funds."""
    stack = Switched(dynamodb)
    stack.on()
    stack.init()
    assert stack.post("U", "credit", "50.00", "c1") == 201
    stack.off()
    stack.on()
    assert stack.post("U", "debit", "1.00", "d0") == 503, "until guard init, the new epoch counts on nothing"
    stack.init()
    assert stack.post("U", "debit", "50.00", "d1") == 201
    assert stack.exact()


def test_no_debit_passes_the_floor_after_the_guard_was_off_and_on_twice(dynamodb: Any) -> None:
    """Issue 33, account V (reproduced at fe9afc6: a second guard init seeded +100.00 again, a further 100.00
    debit answered 201, and V's rows folded to -100.00)."""
    stack = Switched(dynamodb)
    assert stack.post("V", "credit", "100.00", "c1") == 201
    stack.on()
    stack.init()
    assert stack.post("V", "debit", "100.00", "d1") == 201
    for cycle in range(2):
        stack.off()
        stack.on()
        stack.init()
        assert stack.post("V", "debit", "100.00", f"d{cycle + 2}") == 422
        assert stack.net("V") == 0 and stack.exact()


def test_a_switch_off_that_served_unguarded_writes_is_safe_when_switched_back_on(dynamodb: Any) -> None:
    """Issue 33 item 2 (reproduced at fe9afc6: the stage served unguarded while the apply failed on the
    protected table; back on, guard init found the stale items "already seeded" and a 100.00 debit answered
    201, leaving -150.00). Terraform replaces the epoch before the stage changes, so back on is a new epoch."""
    stack = Switched(dynamodb)
    stack.on()
    stack.init()
    assert stack.post("W", "credit", "100.00", "c1") == 201
    stack.off()  # the stage served unguarded: debits past nothing, as the guard is off
    assert stack.post("W", "debit", "100.00", "d1") == 201
    assert stack.post("W", "debit", "50.00", "d2") == 201
    stack.on()
    assert stack.post("W", "debit", "100.00", "d2b") == 503, "its item still says 100.00: of an earlier epoch"
    assert stack.post("W", "credit", "10.00", "c2") == 503, "an item of an earlier epoch takes no count"
    done = stack.init()
    assert (done.first.carried, done.first.seeded) == (1, 0)
    assert stack.post("W", "debit", "100.00", "d3") == 422
    assert stack.post("W", "credit", "60.00", "c3") == 201
    assert stack.post("W", "debit", "10.00", "d4") == 201
    assert stack.net("W") == 0 and stack.exact()


def test_an_overdraft_limit_outlives_the_guard_switched_off_and_on(dynamodb: Any) -> None:
    stack = Switched(dynamodb)
    stack.on()
    stack.init()
    assert stack.limit("L", "30.00") == 200
    assert stack.post("L", "credit", "20.00", "c1") == 201
    stack.off()
    stack.on()
    assert stack.limit("L", "40.00") == 503, "a limit waits for guard init to carry the item into the epoch"
    stack.init()
    (carried,) = [balance_item(i) for i in everything(dynamodb)[1] if i["accountId"]["S"] == "L"]
    assert carried.epoch == stack.variables["guardEpoch"] and carried.seeded
    kept = (carried.available, carried.overdraft_limit, carried.headroom)
    assert kept == (Decimal(20), Decimal(30), Decimal(50)), "the limit is kept"
    assert stack.post("L", "debit", "50.01", "d1") == 422
    assert stack.post("L", "debit", "50.00", "d2") == 201
    assert stack.net("L") == -30 and stack.exact()


def test_a_new_account_in_an_initialised_epoch_is_seeded_by_its_first_credit(dynamodb: Any) -> None:
    stack = Switched(dynamodb)
    stack.on()
    assert stack.post("N", "credit", "5.00", "c1") == 201, "credits count before guard init"
    assert stack.post("N", "debit", "5.00", "d1") == 503
    done = stack.init()
    assert (done.first.seeded, done.stragglers.seeded) == (1, 0)
    assert stack.post("M", "credit", "5.00", "c2") == 201
    assert stack.post("M", "debit", "5.00", "d2") == 201, "a first credit after guard init creates a seeded item"
    assert stack.exact()


transition = st.sampled_from(["on", "off", "init", "credit", "debit", "limit"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(transition, st.integers(min_value=1, max_value=60), st.booleans()), max_size=16))
def test_no_sequence_of_switches_lets_a_guarded_debit_past_its_floor(
    dynamodb: Any, steps: list[tuple[str, int, bool]]
) -> None:
    """Any sequence of switches, guard inits (or none), credits, debits and limits, on two accounts: a debit
    answered 201 while the guard is on never leaves its account's rows below the floor, a refusal writes
    nothing, and once guard init has run in the epoch every balance item is the fold of its rows."""
    for table in (DETAILS, BALANCES):  # hypothesis reuses the fixture's tables across examples
        for item in dynamodb.scan(TableName=table)["Items"]:
            key = {
                k: item[k] for k in (("accountId", "transactionId") if table == DETAILS else ("accountId", "currency"))
            }
            dynamodb.delete_item(TableName=table, Key=key)
    stack, limits = Switched(dynamodb), {"P": Decimal(0), "Q": Decimal(0)}
    for n, (step, amount, first) in enumerate(steps):
        account, guarded = ("P" if first else "Q"), "guardEpoch" in stack.variables
        if step == "on" and not guarded:
            stack.on()
        elif step == "off" and guarded:
            stack.off()
        elif step == "init" and guarded:
            stack.init()
        elif step == "limit" and guarded:
            status = stack.limit(account, f"{amount}.00")
            assert status in (200, 503)
            if status == 200:
                limits[account] = Decimal(amount)
        elif step in ("credit", "debit"):
            rows = len(items(dynamodb))
            status = stack.post(account, step, f"{amount}.00", f"t{n}")
            assert status in (201, 422, 503)
            assert len(items(dynamodb)) == rows + (status == 201), "a refusal writes nothing"
            if step == "debit" and guarded and status == 201:
                assert stack.net(account) >= -limits[account], "a guarded debit never passes the floor"
        if "guardEpoch" in stack.variables and stack.read().initialised:
            assert stack.exact()


def test_a_stack_guarded_before_epochs_is_carried_into_its_first_epoch(dynamodb: Any) -> None:
    """Before epochs, guarded rows carried `guarded: true` and balance items no epoch; after the upgrade's
    apply (a first epoch) guard init counts those rows again and carries every item, its limit kept."""
    legacy = {"accountId": {"S": "O"}, "type": {"S": "credit"}, "currency": {"S": "EUR"}, "recordedAt": {"N": "1"}}
    dynamodb.put_item(TableName=DETAILS, Item={**legacy, "transactionId": {"S": "old"}, "amount": {"N": "40"}})
    guarded = {**legacy, "transactionId": {"S": "old-guarded"}, "amount": {"N": "2"}, "guarded": {"BOOL": True}}
    dynamodb.put_item(TableName=DETAILS, Item=guarded)
    item = {"accountId": {"S": "O"}, "currency": {"S": "EUR"}, "available": {"N": "42"}, "seeded": {"BOOL": True}}
    dynamodb.put_item(TableName=BALANCES, Item={**item, "headroom": {"N": "52"}, "overdraftLimit": {"N": "10"}})
    stack = Switched(dynamodb)
    stack.on()
    assert stack.post("O", "debit", "1.00", "d0") == 503, "an item without an epoch is of an earlier one"
    assert stack.init().first.carried == 1
    assert stack.post("O", "debit", "52.01", "d1") == 422
    assert stack.post("O", "debit", "52.00", "d2") == 201
    assert stack.net("O") == -10 and stack.exact()


# --- guard init racing a switch of the guard (found by a hostile review) ----------------------------


def test_a_guard_init_left_running_across_a_switch_never_drags_an_item_back(dynamodb: Any) -> None:
    """Init A reads epoch 2's rows and items, then stalls; the guard is switched again (epoch 3), init B
    carries V into it and V spends 80.00. Before: A, resuming, carried V back into epoch 2 with its stale
    fold, a third init carried that forward, and a 100.00 debit answered 201 (V folded to -80.00). Now A
    finds V of an epoch it did not read and refuses."""
    stack = Switched(dynamodb)
    stack.on()
    stack.init()
    assert stack.post("V", "credit", "100.00", "c1") == 201
    stack.off()
    stack.on()
    stale = stack.variables["guardEpoch"]
    rows, items = everything(dynamodb)  # what A read before it stalled
    stack.off()
    stack.on()
    stack.init()
    assert stack.post("V", "debit", "80.00", "d1") == 201
    with pytest.raises(EpochChangedError):
        seed_balances(dynamodb, BALANCES, rows, items, stale)
    assert stack.post("V", "debit", "100.00", "d2") == 422
    stack.init()
    assert stack.post("V", "debit", "100.00", "d3") == 422
    assert stack.net("V") == 20 and stack.exact()


class SwitchedWhileMarking(Switched):
    """A stage that an apply switches right after the first guard init marks it (epoch 2), before its
    stragglers pass, while a first credit creates an item of the new epoch."""

    switched = False

    def mark_initialised(self, epoch: str) -> None:
        super().mark_initialised(epoch)
        if not self.switched:
            self.switched = True
            self.off()
            self.on()
            assert self.post("K", "credit", "50.00", "c1") == 201


def test_guard_inits_last_pass_never_touches_an_item_of_a_newer_epoch(dynamodb: Any) -> None:
    """Before: the stragglers pass of an init whose epoch had just been switched off carried K's new item
    back into the old epoch, and no later guard init could mend it (a 50.00 debit refused, reconcile said
    available 0 is not the fold, 50.00)."""
    stack = SwitchedWhileMarking(dynamodb)
    stack.on()
    with pytest.raises(EpochChangedError):
        stack.init()
    stack.init()  # the operator runs guard init again, for epoch 2
    assert stack.post("K", "debit", "50.00", "d1") == 201
    assert stack.net("K") == 0 and stack.exact()


def test_guard_init_measures_the_settle_time_by_the_stages_clock_not_the_operators(dynamodb: Any) -> None:
    """The stage changed just now by AWS's clock; the operator's runs two minutes ahead. Before: guard init
    compared AWS's lastUpdatedDate with the local clock, waited 0 s, and seeded before an unguarded debit
    still in flight landed (a later guarded debit of the same funds answered 201, -100.00)."""
    stack = Switched(dynamodb)
    stack.on()
    now = datetime.now(UTC)
    waited: list[float] = []

    class Stage:
        def read(self) -> GuardState:
            return dataclasses.replace(stack.read(), changed_at=now, read_at=now + timedelta(seconds=1))

        def mark_initialised(self, epoch: str) -> None:
            stack.mark_initialised(epoch)

    reads = Reads(
        rows=lambda: dynamodb.scan(TableName=DETAILS)["Items"],
        items=lambda table: dynamodb.scan(TableName=table)["Items"],
        now=lambda: datetime.now(UTC) + timedelta(minutes=2),
        wait=waited.append,
    )
    initialise(dynamodb, Stage(), reads, settle=60)
    assert waited == [59.0]


class HeldByATransaction:
    """A DynamoDB client on which the first UpdateItem of each balance item meets a transaction in progress,
    as a guarded write's would while guard init runs beside it (DynamoDB refuses a single write to an item a
    transaction holds with TransactionConflictException; the local account does too)."""

    def __init__(self, client: Any) -> None:
        self._client, self.refused = client, 0
        self._met: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **request: Any) -> Any:
        key = request["Key"]["accountId"]["S"]
        if request["TableName"] == BALANCES and key not in self._met:
            self._met.add(key)
            self.refused += 1
            error = {"Error": {"Code": "TransactionConflictException", "Message": "Transaction is ongoing"}}
            raise self._client.exceptions.TransactionConflictException(error, "UpdateItem")
        return self._client.update_item(**request)


def test_guard_init_seeds_an_item_a_guarded_transaction_holds_once_it_is_free(dynamodb: Any) -> None:
    """Before: guard init failed on TransactionConflictException while writes went on (a CI run of the
    lifecycle suite), leaving the epoch unseeded until an operator ran it again."""
    assert post(dynamodb, "credit", "100", "h1", stage=UNGUARDED).status == 201
    assert post(dynamodb, "credit", "5", "g1", stage=SEEDING).status == 201
    rows, items = dynamodb.scan(TableName=DETAILS)["Items"], dynamodb.scan(TableName=BALANCES)["Items"]
    held: Any = HeldByATransaction(dynamodb)  # a DynamoDBClient in all it is asked
    assert seed_balances(held, BALANCES, rows, items, EPOCH) == Seeded(seeded=1)
    assert held.refused == 1
    assert balance(dynamodb) == {"available": 105, "headroom": 105, "seeded": True}


def test_guard_init_carries_an_item_of_an_earlier_epoch_that_a_transaction_held(dynamodb: Any) -> None:
    """Before: the carry of an item of the epoch before met a guarded write's transaction, the item read
    again was still of that epoch, and guard init stopped with EpochChangedError as if the guard had been
    switched (a CI run of the lifecycle suite)."""
    stack = Switched(dynamodb)
    stack.on()
    assert stack.post("K", "credit", "50.00", "c1") == 201
    stack.init()
    stack.off()
    stack.on()
    rows, items = dynamodb.scan(TableName=DETAILS)["Items"], dynamodb.scan(TableName=BALANCES)["Items"]
    held: Any = HeldByATransaction(dynamodb)  # a DynamoDBClient in all it is asked
    assert seed_balances(held, BALANCES, rows, items, stack.variables["guardEpoch"]) == Seeded(carried=1)
    assert held.refused == 1
