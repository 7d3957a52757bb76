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
    BalanceFollower,
    Delivery,
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
        "before": {"balance": "80.50", "credits": "100.00", "debits": "19.50", "transactionCount": 3},
        "after": {"balance": "40.00", "credits": "100.00", "debits": "60.00", "transactionCount": 4},
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


def _incarnations(changes: list[int], start: int = 1_000_000) -> list[dict[str, Any]]:
    """One key's events: for each summary item of it in turn (deleted, then created again later), that many
    changes; each item's revisions start above the last one's, as summary_item's floor makes them."""
    details: list[dict[str, Any]] = []
    floor = start
    for count in changes:
        for step in range(1, count + 1):
            revision = floor + step
            previous = None if step == 1 else revision - 1
            details.append(
                {
                    "accountId": "a",
                    "currency": "EUR",
                    "revision": revision,
                    "previousRevision": previous,
                    "after": {"balance": f"{revision}.00"},
                }
            )
        floor += count + 10_000  # the next item is created later: its floor is the later time
    return details


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@given(
    st.lists(st.integers(1, 8), min_size=1, max_size=3),
    st.lists(st.integers(0, 1_000), max_size=30),
    st.randoms(use_true_random=False),
)
def test_a_follower_fed_at_least_once_in_any_order_ends_at_the_last_state_with_nothing_missing(
    changes: list[int], repeats: list[int], rng: Any
) -> None:
    # The feed's contract: at least once, in no order (EventBridge's retries reorder deliveries), and a key's
    # summary may be deleted and written again, its revisions starting above any it had.
    events = _incarnations(changes)
    delivered = events + [events[i % len(events)] for i in repeats]
    rng.shuffle(delivered)
    follower = BalanceFollower(late_bound=60, clock=Clock())
    outcomes = [follower.apply(detail) for detail in delivered]
    assert follower.latest[("a", "EUR")]["after"] == events[-1]["after"], "the highest revision wins"
    assert follower.missing() == {} and follower.gaps() == []
    assert outcomes.count(Delivery.DUPLICATE) >= len(repeats)
    assert len(outcomes) - outcomes.count(Delivery.DUPLICATE) <= len(events), "each change taken in once"


def test_a_revision_missing_from_the_chain_is_late_when_it_comes_and_a_gap_when_it_does_not() -> None:
    clock = Clock()
    follower = BalanceFollower(late_bound=60, clock=clock)
    one, two, three, four = _incarnations([4])
    assert [follower.apply(d) for d in (one, three)] == [Delivery.APPLIED, Delivery.APPLIED]
    assert follower.missing() == {("a", "EUR"): [two["revision"]]}, "three names two as its previous"
    clock.now = 59
    assert follower.gaps() == [] and follower.apply(two) is Delivery.LATE, "within the bound: a late delivery"
    assert follower.latest[("a", "EUR")] is three and follower.missing() == {}
    assert follower.apply(two) is Delivery.DUPLICATE
    follower.apply(four)
    clock.now = 200
    five = {**four, "revision": four["revision"] + 2, "previousRevision": four["revision"] + 1}
    assert follower.apply(five) is Delivery.APPLIED
    clock.now = 261
    (gap,) = follower.gaps()
    assert (gap.revision, gap.missed_for) == (four["revision"] + 1, 61)
    assert gap.describe() == f"a EUR: revision {four['revision'] + 1} missing for 61 s"


def test_a_creation_of_a_known_key_is_a_new_item_whose_higher_revisions_win_and_settle_the_old_ones() -> None:
    follower = BalanceFollower(late_bound=60, clock=Clock())
    old_one, old_two, old_three, new_one, new_two = _incarnations([3, 2])
    for detail in (old_one, old_three, new_two):
        follower.apply(detail)
    assert follower.missing() == {("a", "EUR"): [old_two["revision"], new_one["revision"]]}
    assert follower.apply(new_one) is Delivery.LATE, "the new item's creation, after its next change"
    assert follower.missing() == {}, "a creation settles every revision of the key below it"
    assert follower.apply(old_two) is Delivery.DUPLICATE, "an old item's change, superseded"
    assert follower.latest[("a", "EUR")] is new_two


def test_a_resync_event_is_a_baseline_that_settles_every_revision_below_it() -> None:
    follower = BalanceFollower(late_bound=60, clock=Clock())
    first, second, third = _incarnations([3])
    follower.apply(third)  # a consumer that joined late: the chain below it is missing
    assert follower.missing() == {("a", "EUR"): [second["revision"]]}
    resync = {**third, "previousRevision": None, "resync": True}
    assert follower.apply(resync) is Delivery.DUPLICATE, "the same state under the same id"
    # Found by a hostile review: a resync of a revision already received settled nothing, so the revisions
    # missing below it stayed missing, became gaps, and a consumer that asks for a resync on a gap looped.
    assert follower.missing() == {}, "it still settles every revision below it"
    fourth = {**third, "revision": third["revision"] + 1, "previousRevision": third["revision"]}
    follower = BalanceFollower(late_bound=60, clock=Clock())
    follower.apply(fourth)
    assert follower.apply(resync) is Delivery.LATE and follower.missing() == {}
    assert follower.apply(first) is Delivery.DUPLICATE


def test_an_item_no_money_write_touched_has_no_state_to_restate() -> None:
    assert resync_detail(image(None), "prod") is None
