"""The sweeper's side of holds on moto: reading the expired open holds of the sparse index, and releasing one
in one transaction, or leaving it for a later run when it changed or its balance is not counted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledger_aggregator.adapters.holds import HoldTables, Release, Swept, expired_holds, release_expired, sweep
from ledger_aggregator.holds import OpenHold, open_hold, release_id
from tests.support.aws import BALANCES, DETAILS, HOLDS, HOLDS_INDEX

TABLES = HoldTables(DETAILS, HOLDS, HOLDS_INDEX, BALANCES)
EPOCH = "e1"


def hold_item(account: str, hold_id: str, remaining: str, expires: int, status: str = "open") -> dict[str, Any]:
    item = {
        "accountId": {"S": account},
        "holdId": {"S": hold_id},
        "currency": {"S": "EUR"},
        "amount": {"N": remaining},
        "remaining": {"N": remaining},
        "captured": {"N": "0"},
        "status": {"S": status},
        "expiresAt": {"N": str(expires)},
    }
    if status == "open":
        item["sweepShard"] = {"S": account[-1]}
    return item


def balance(client: Any, account: str, held: str, epoch: str = EPOCH) -> None:
    client.put_item(
        TableName=BALANCES,
        Item={
            "accountId": {"S": account},
            "currency": {"S": "EUR"},
            "available": {"N": "100"},
            "held": {"N": held},
            "free": {"N": str(100 - Decimal(held))},
            "headroom": {"N": str(100 - Decimal(held))},
            "openHolds": {"N": "1"},
            "seeded": {"BOOL": True},
            "epoch": {"S": epoch},
        },
    )


def test_an_open_hold_is_read_from_its_item_and_anything_else_is_refused() -> None:
    assert open_hold(hold_item("acc-1", "h1", "12.50", 5)) == OpenHold("acc-1", "h1", "EUR", Decimal("12.50"), 5)
    with pytest.raises(ValueError, match="voided, not open"):
        open_hold(hold_item("acc-1", "h1", "0", 5, status="voided"))
    with pytest.raises(ValueError, match="above 0"):
        open_hold(hold_item("acc-1", "h1", "0", 5))
    with pytest.raises(ValueError, match="without currency"):
        open_hold({k: v for k, v in hold_item("acc-1", "h1", "1", 5).items() if k != "currency"})
    with pytest.raises(ValueError, match="not a number"):
        open_hold(hold_item("acc-1", "h1", "1", 5) | {"expiresAt": {"N": "1.5"}})


def test_the_expired_open_holds_of_every_shard_are_read_and_no_other(hold_tables: Any) -> None:
    for n, account in enumerate(["acc-a", "acc-Z", "acc-_", "acc-9", "acc--"]):
        hold_tables.put_item(TableName=HOLDS, Item=hold_item(account, "due", "1", 1000 + n))
        hold_tables.put_item(TableName=HOLDS, Item=hold_item(account, "later", "1", 5000))
        hold_tables.put_item(TableName=HOLDS, Item=hold_item(account, "closed", "0", 10, status="captured"))
    found = sorted((h.account, h.hold_id) for h in expired_holds(hold_tables, TABLES, 4999))
    assert found == sorted((a, "due") for a in ["acc-a", "acc-Z", "acc-_", "acc-9", "acc--"])


def test_a_release_writes_its_row_closes_the_hold_and_frees_the_funds(hold_tables: Any) -> None:
    hold_tables.put_item(TableName=HOLDS, Item=hold_item("acc-1", "h1", "30", 1000))
    balance(hold_tables, "acc-1", "30")
    (hold,) = expired_holds(hold_tables, TABLES, 1000)
    assert release_expired(hold_tables, TABLES, hold, 1000, epoch=EPOCH, request_id="sweep-1") is Release.RELEASED
    row = hold_tables.get_item(
        TableName=DETAILS, Key={"accountId": {"S": "acc-1"}, "transactionId": {"S": release_id("h1")}}
    )["Item"]
    assert (row["type"], row["amount"], row["reason"]) == ({"S": "release"}, {"N": "30"}, {"S": "expiry"})
    item = hold_tables.get_item(TableName=HOLDS, Key={"accountId": {"S": "acc-1"}, "holdId": {"S": "h1"}})["Item"]
    assert (item["status"], item["remaining"], "sweepShard" in item) == ({"S": "expired"}, {"N": "0"}, False)
    funds = hold_tables.get_item(TableName=BALANCES, Key={"accountId": {"S": "acc-1"}, "currency": {"S": "EUR"}})[
        "Item"
    ]
    assert {k: funds[k]["N"] for k in ("held", "free", "headroom", "openHolds")} == {
        "held": "0",
        "free": "100",
        "headroom": "100",
        "openHolds": "0",
    }
    assert list(expired_holds(hold_tables, TABLES, 10_000)) == []
    again = release_expired(hold_tables, TABLES, hold, 1000, epoch=EPOCH, request_id="sweep-2")
    assert again is Release.CHANGED, "a release is never made twice"


def test_a_hold_captured_since_it_was_read_is_left_alone(hold_tables: Any) -> None:
    hold_tables.put_item(TableName=HOLDS, Item=hold_item("acc-1", "h1", "30", 1000))
    balance(hold_tables, "acc-1", "30")
    (hold,) = expired_holds(hold_tables, TABLES, 1000)
    hold_tables.put_item(TableName=HOLDS, Item=hold_item("acc-1", "h1", "20", 1000))  # a capture of 10 before expiry
    assert release_expired(hold_tables, TABLES, hold, 1000, epoch=EPOCH, request_id="s") is Release.CHANGED
    assert "Item" not in hold_tables.get_item(
        TableName=DETAILS, Key={"accountId": {"S": "acc-1"}, "transactionId": {"S": release_id("h1")}}
    )


def test_a_hold_not_yet_expired_by_the_releases_clock_is_left_alone(hold_tables: Any) -> None:
    hold_tables.put_item(TableName=HOLDS, Item=hold_item("acc-1", "h1", "30", 1000))
    balance(hold_tables, "acc-1", "30")
    hold = OpenHold("acc-1", "h1", "EUR", Decimal(30), 1000)
    assert release_expired(hold_tables, TABLES, hold, 999, epoch=EPOCH, request_id="s") is Release.CHANGED


def test_a_balance_of_another_epoch_is_not_counted_into(hold_tables: Any) -> None:
    hold_tables.put_item(TableName=HOLDS, Item=hold_item("acc-1", "h1", "30", 1000))
    balance(hold_tables, "acc-1", "30", epoch="e0")
    (hold,) = expired_holds(hold_tables, TABLES, 1000)
    assert release_expired(hold_tables, TABLES, hold, 1000, epoch=EPOCH, request_id="s") is Release.NOT_COUNTED
    assert list(expired_holds(hold_tables, TABLES, 1000)) == [hold], "still open, for a later run"


def test_a_sweep_releases_every_expired_hold_passes_over_an_unreadable_one_and_counts_each(hold_tables: Any) -> None:
    for account in ("acc-1", "acc-2", "acc-3"):
        hold_tables.put_item(TableName=HOLDS, Item=hold_item(account, "h1", "30", 1000))
    balance(hold_tables, "acc-1", "30")
    balance(hold_tables, "acc-2", "30", epoch="e0")  # not counted in this epoch: left for a later run
    balance(hold_tables, "acc-3", "30")
    broken = hold_item("acc-4", "h1", "30", 1000) | {"remaining": {"S": "thirty"}}
    hold_tables.put_item(TableName=HOLDS, Item=broken)
    swept = sweep(hold_tables, TABLES, 1000, epoch=EPOCH, request_id="sweep-1")
    assert swept.outcomes == {Release.RELEASED: 2, Release.NOT_COUNTED: 1}
    assert (swept.unreadable, swept.left, swept.stopped) == (
        ("hold h1: remaining or expiresAt is not a number",),
        1,
        False,
    )
    assert "2 released" in swept.describe() and "1 unreadable" in swept.describe()
    assert sweep(hold_tables, TABLES, 1000, epoch=EPOCH, request_id="sweep-2").outcomes == {Release.NOT_COUNTED: 1}


def test_a_sweep_out_of_time_starts_no_more_releases(hold_tables: Any) -> None:
    for account in ("acc-1", "acc-2"):
        hold_tables.put_item(TableName=HOLDS, Item=hold_item(account, "h1", "30", 1000))
        balance(hold_tables, account, "30")
    calls = iter([False, True])
    swept = sweep(hold_tables, TABLES, 1000, epoch=EPOCH, request_id="s", stop=lambda: next(calls))
    assert swept == Swept({Release.RELEASED: 1}, (), stopped=True)
    assert len(list(expired_holds(hold_tables, TABLES, 1000))) == 1, "the other is left for the next run"
