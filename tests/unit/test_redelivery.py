"""The writer's backoff for failed queue messages (pure)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from ledger_aggregator.redelivery import (
    DEFAULT_CEILING_SECONDS,
    deferrals,
    delay_seconds,
    step_seconds,
    tolerated_seconds,
)


@given(st.integers(min_value=-5, max_value=10_000), st.integers(min_value=1, max_value=43_200), st.randoms())
def test_a_delay_is_a_whole_number_between_half_the_step_and_the_step(
    receive_count: int, ceiling: int, rng: random.Random
) -> None:
    step = step_seconds(receive_count, ceiling)
    delay = delay_seconds(receive_count, ceiling, rng.randint)
    assert 1 <= step <= ceiling
    assert step / 2 <= delay <= step


@given(st.integers(min_value=1, max_value=200), st.integers(min_value=1, max_value=3600))
def test_steps_never_shrink_as_a_message_keeps_failing(receive_count: int, ceiling: int) -> None:
    assert step_seconds(receive_count + 1, ceiling) >= step_seconds(receive_count, ceiling)


def test_steps_double_from_two_seconds_up_to_the_ceiling() -> None:
    assert [step_seconds(n, 45) for n in range(1, 9)] == [2, 4, 8, 16, 32, 45, 45, 45]


def test_the_defaults_cover_minutes_of_throttling_before_the_dlq() -> None:
    """docs/operations.md's table: the default 23 receives with the default 25 s ceiling cannot reach the DLQ
    in under 262 s, as 15 receives with the earlier 45 s ceiling (261 s)."""
    assert DEFAULT_CEILING_SECONDS == 25
    assert tolerated_seconds(23) == 1 + 2 + 4 + 8 + 13 * 19 == 262
    assert tolerated_seconds(15, 45) == 1 + 2 + 4 + 8 + 16 + 23 * 10 == 261
    assert tolerated_seconds(5, 45) < 60  # the old default of 5 receives: under a minute


def test_only_failed_records_with_a_receipt_are_deferred_by_their_receive_count() -> None:
    records = [
        {"messageId": "a", "receiptHandle": "ra", "attributes": {"ApproximateReceiveCount": "1"}},
        {"messageId": "b", "receiptHandle": "rb", "attributes": {"ApproximateReceiveCount": "6"}},
        {"messageId": "c", "receiptHandle": "rc", "attributes": {"ApproximateReceiveCount": "3"}},
        {"messageId": "d", "attributes": {"ApproximateReceiveCount": "3"}},
        {"messageId": "e", "receiptHandle": "re", "attributes": {"ApproximateReceiveCount": "x"}},
    ]
    highest = [(d.message_id, d.seconds) for d in deferrals(records, frozenset("abde"), 45, lambda _, high: high)]
    assert highest == [("a", 2), ("b", 45), ("e", 2)]
