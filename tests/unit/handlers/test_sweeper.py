"""The holds sweeper's handler on moto: it releases the holds expired by its clock into the guard's epoch,
refuses an input that asks for more, and fails, naming them, when the index holds items that are not open
holds (after releasing the others)."""

from __future__ import annotations

from typing import Any

import pytest

from ledger_aggregator.composition import SweeperDeps
from ledger_aggregator.config import ConfigurationError, SweeperSettings
from tests.support.aws import BALANCES, DETAILS, HOLDS, HOLDS_INDEX
from tests.support.fakes import FakeContext
from tests.unit.adapters.test_holds import balance, hold_item

SETTINGS = SweeperSettings(DETAILS, HOLDS, HOLDS_INDEX, BALANCES, "e1")


def run(client: Any, now_ms: int, event: Any = None) -> dict[str, Any]:
    from ledger_aggregator.handlers import sweeper

    deps = SweeperDeps(SETTINGS, client, now_ms=lambda: now_ms)
    given = {"source": "schedule"} if event is None else event
    result: dict[str, Any] = sweeper.make_handler(deps)(given, FakeContext())
    return result


def status(client: Any, account: str) -> str:
    item = client.get_item(TableName=HOLDS, Key={"accountId": {"S": account}, "holdId": {"S": "h1"}})["Item"]
    return str(item["status"]["S"])


def test_a_run_releases_the_holds_expired_by_its_clock_and_no_other(hold_tables: Any) -> None:
    hold_tables.put_item(TableName=HOLDS, Item=hold_item("acc-1", "h1", "30", 1000))
    hold_tables.put_item(TableName=HOLDS, Item=hold_item("acc-2", "h1", "30", 2000))
    balance(hold_tables, "acc-1", "30")
    balance(hold_tables, "acc-2", "30")
    answer = run(hold_tables, 1999)
    assert (answer["released"], answer["not_counted"], answer["unreadable"], answer["stopped"]) == (1, 0, 0, False)
    assert (status(hold_tables, "acc-1"), status(hold_tables, "acc-2")) == ("expired", "open")
    assert run(hold_tables, 1999)["released"] == 0, "a run again releases nothing twice"


def test_an_item_that_is_not_an_open_hold_fails_the_run_after_the_others_are_released(hold_tables: Any) -> None:
    hold_tables.put_item(TableName=HOLDS, Item=hold_item("acc-1", "h1", "30", 1000))
    balance(hold_tables, "acc-1", "30")
    hold_tables.put_item(TableName=HOLDS, Item=hold_item("acc-2", "h1", "30", 1000) | {"expiresAt": {"N": "1.5"}})
    with pytest.raises(RuntimeError, match=r"1 item.* passed over: .*hold h1: remaining or expiresAt is not a number"):
        run(hold_tables, 1000)
    assert status(hold_tables, "acc-1") == "expired"


@pytest.mark.parametrize("event", [[], {"source": 1}, {"source": "schedule", "now": 5}])
def test_an_input_that_asks_for_more_than_a_label_is_refused_and_nothing_is_released(
    hold_tables: Any, event: Any
) -> None:
    hold_tables.put_item(TableName=HOLDS, Item=hold_item("acc-1", "h1", "30", 1000))
    balance(hold_tables, "acc-1", "30")
    with pytest.raises(ValueError, match="at most a source label"):
        run(hold_tables, 1000, event)
    assert status(hold_tables, "acc-1") == "open"


def test_a_missing_setting_is_named() -> None:
    with pytest.raises(ConfigurationError, match="GUARD_EPOCH is not set for the holds sweeper"):
        SweeperSettings.from_env({"DETAILS_TABLE": "d", "HOLDS_TABLE": "h", "HOLDS_INDEX": "i", "BALANCES_TABLE": "b"})


def terraform(client: Any, action: str) -> dict[str, Any]:
    """Terraform's invocation of the holds-off refusal (modules/sweeper), as aws_lambda_invocation sends it."""
    event = {"ledgerGuard": "holds-off", "guardEpoch": "e1", "tf": {"action": action, "prev_input": None}}
    return run(client, 0, event)


@pytest.mark.parametrize("action", ["create", "update"])
def test_terraform_creating_or_updating_the_refusal_only_arms_it(hold_tables: Any, action: str) -> None:
    hold_tables.put_item(TableName=HOLDS, Item=hold_item("acc-1", "h1", "30", 1000))
    assert terraform(hold_tables, action) == {"guard": "armed", "action": action}
    assert status(hold_tables, "acc-1") == "open", "arming releases nothing"


def test_holds_switched_off_while_a_hold_is_open_is_refused_naming_it(hold_tables: Any) -> None:
    hold_tables.put_item(TableName=HOLDS, Item=hold_item("acc-1", "h1", "30", 1000))
    hold_tables.put_item(TableName=HOLDS, Item=hold_item("acc-2", "h1", "0", 1000, status="voided"))
    with pytest.raises(RuntimeError, match=r"while holds are open: acc-1/h1\. Void them") as refused:
        terraform(hold_tables, "delete")
    assert "acc-2" not in str(refused.value), "a closed hold is not named"


def test_holds_switched_off_with_none_open_passes(hold_tables: Any) -> None:
    assert terraform(hold_tables, "delete") == {"guard": "passed", "action": "delete"}


def test_a_refusal_names_at_most_twenty_open_holds(hold_tables: Any) -> None:
    for n in range(22):
        hold_tables.put_item(TableName=HOLDS, Item=hold_item(f"acc-{n}", "h1", "30", 1000))
    with pytest.raises(RuntimeError, match=r"and more\.") as refused:
        terraform(hold_tables, "delete")
    assert str(refused.value).count("/h1") == 20
