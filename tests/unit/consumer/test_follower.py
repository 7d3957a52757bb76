"""The consumer's follower (consumer.follower): exact without order, a missing revision late or a gap."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from consumer.follower import BalanceFollower, Delivery


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
