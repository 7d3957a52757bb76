"""The harness client's retry of 429s: bounded, and spread out as Retry-After allows."""

from __future__ import annotations

import pytest

from harness import client
from harness.client import Response, until_not_throttled


def answers(*statuses: int, retry_after: str = "1") -> list[Response]:
    return [Response(s, None, {"Retry-After": retry_after} if s == 429 else {}, "") for s in statuses]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr("harness.client.time.sleep", slept.append)
    return slept


def test_a_429_is_retried_after_a_wait_until_another_answer_comes(waits: list[float]) -> None:
    queue = answers(429, 429, 201)
    answer, seen = until_not_throttled(lambda: queue.pop(0), retries=5)
    assert (answer.status, seen, len(waits)) == (201, 2, 2)


def test_retries_stop_at_the_bound_and_the_last_429_is_answered(waits: list[float]) -> None:
    queue = answers(*[429] * 10)
    answer, seen = until_not_throttled(lambda: queue.pop(0), retries=3)
    assert (answer.status, seen, len(queue)) == (429, 3, 6)


def test_each_wait_is_below_its_doubling_bound_and_never_past_retry_after(waits: list[float]) -> None:
    queue = answers(*[429] * 20, retry_after="0.05")
    until_not_throttled(lambda: queue.pop(0), retries=12)
    bounds = [min(0.05, client.FIRST_BACKOFF_SECONDS * 2**n) for n in range(12)]
    assert all(0 <= wait <= bound for wait, bound in zip(waits, bounds, strict=True)), waits
