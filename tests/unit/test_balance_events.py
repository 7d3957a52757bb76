"""The balance events' core: one committed change of a summary item, its id and its detail."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger_aggregator.balance_events import (
    CORRECTED_REVISION,
    DETAIL_TYPE,
    SOURCE,
    committed_change,
    event_detail,
    format_amount,
    resync_detail,
)
from ledger_aggregator.currencies import minor_units


def image(revision: int | None, balance: str = "0", credits: str = "0", debits: str = "0", **more: Any) -> Any:
    item: dict[str, Any] = {
        "accountId": {"S": "acc-1"},
        "currency": {"S": more.pop("currency", "EUR")},
        "balance": {"N": balance},
        "credits": {"N": credits},
        "debits": {"N": debits},
        "transactionCount": {"N": str(more.pop("count", 1))},
        **more,
    }
    if revision is not None:
        item["revision"] = {"N": str(revision)}
    return item


def test_a_money_write_is_one_change_with_an_id_of_its_key_and_revision() -> None:
    old = image(4, "80.5", "100", "19.5", count=3)
    new = image(5, "40", "100", "60", count=4, lastTransactionAt={"S": "2026-12-01T10:00:00.000000Z"})
    change = committed_change(old, new)
    assert change is not None and change.event_id == "acc-1:EUR:5"
    assert event_detail(change, "prod-ledger") == {
        "eventId": "acc-1:EUR:5",
        "deployment": "prod-ledger",
        "accountId": "acc-1",
        "currency": "EUR",
        "revision": 5,
        "previousRevision": 4,
        "correction": False,
        "resync": False,
        "before": {"balance": "80.50", "credits": "100.00", "debits": "19.50", "held": "0.00", "transactionCount": 3},
        "after": {"balance": "40.00", "credits": "100.00", "debits": "60.00", "held": "0.00", "transactionCount": 4},
        "lastTransactionAt": "2026-12-01T10:00:00.000000Z",
    }


def test_the_first_change_of_a_summary_has_nothing_before_it() -> None:
    change = committed_change(None, image(1, "5000", "5000", currency="JPY"))
    assert change is not None
    detail = event_detail(change, "d")
    assert (detail["before"], detail["previousRevision"]) == (None, None)
    assert detail["after"]["balance"] == "5000"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (image(5), image(5)),  # rewritten without a money write
        (image(5), image(4)),  # an older image (never from one stream record)
        (image(5), None),  # removed
        (None, image(None)),  # no money write has touched it
    ],
)
def test_anything_but_a_raised_revision_publishes_nothing(old: Any, new: Any) -> None:
    assert committed_change(old, new) is None


def test_a_rebuild_is_marked_as_a_correction_and_the_next_fold_write_is_not() -> None:
    rebuilt = image(8, "10", "10", "0", **{CORRECTED_REVISION: {"N": "8"}})
    change = committed_change(image(7, "11", "11"), rebuilt)
    assert change is not None and event_detail(change, "d")["correction"] is True
    after = committed_change(rebuilt, image(9, "12", "12", "0", **{CORRECTED_REVISION: {"N": "8"}}))
    assert after is not None and event_detail(after, "d")["correction"] is False


@given(
    currency=st.sampled_from(sorted(minor_units())),
    units=st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1),
)
def test_an_amount_is_written_with_its_currencys_minor_unit_and_means_the_same_number(
    currency: str, units: int
) -> None:
    places = minor_units()[currency]
    amount = Decimal(units).scaleb(-places)
    stored = amount.normalize()  # DynamoDB trims zeros: "80.50" is stored as 80.5
    written = format_amount(stored, currency)
    assert Decimal(written) == amount
    assert ("." not in written) if places == 0 else (len(written.split(".")[1]) == places)


def test_an_amount_finer_than_its_currency_is_written_as_stored_never_rounded() -> None:
    assert format_amount(Decimal("1.005"), "EUR") == "1.005"
    assert format_amount(Decimal("1E+3"), "JPY") == "1000"
    assert format_amount(Decimal("7.5"), "XXX") == "7.5"


def test_the_pipe_publishes_with_the_source_and_detail_type_the_core_owns() -> None:
    module = (Path(__file__).resolve().parents[2] / "modules" / "events" / "main.tf").read_text()
    assert f'source      = "{SOURCE}"' in module and f'detail_type = "{DETAIL_TYPE}"' in module


SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "balance-event.schema.json").read_text())


@given(
    revision=st.integers(min_value=1, max_value=10**6),
    cents=st.lists(st.integers(min_value=0, max_value=10**12), min_size=4, max_size=4),
    currency=st.sampled_from(["EUR", "JPY", "KWD"]),
    corrected=st.booleans(),
)
def test_every_detail_matches_the_published_json_schema(
    revision: int, cents: list[int], currency: str, corrected: bool
) -> None:
    places = minor_units()[currency]
    amounts = [str(Decimal(c).scaleb(-places).normalize()) for c in cents]
    old = image(revision - 1, amounts[0], amounts[1], "0", currency=currency) if revision > 1 else None
    marks = {CORRECTED_REVISION: {"N": str(revision)}} if corrected else {}
    new = image(revision, amounts[2], amounts[3], "0", currency=currency, **marks)
    change = committed_change(old, new)
    assert change is not None
    jsonschema.validate(event_detail(change, "prod"), SCHEMA)
    restated = resync_detail(new, "prod")
    jsonschema.validate(restated, SCHEMA)
    assert restated is not None and (restated["eventId"], restated["resync"]) == (change.event_id, True)


def test_an_item_no_money_write_touched_has_no_state_to_restate() -> None:
    assert resync_detail(image(None), "prod") is None
