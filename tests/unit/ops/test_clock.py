"""The operator's clock is held to DynamoDB's Date header: a revision floor is never taken from a skewed clock."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from ledger_ops.clock import ServerClock


class Events:
    def __init__(self) -> None:
        self.handlers: dict[str, Any] = {}

    def register(self, name: str, handler: Any) -> None:
        self.handlers[name] = handler


def answered(events: Events, date: str) -> None:
    events.handlers["after-call.dynamodb"](http_response=SimpleNamespace(headers={"Date": date}))


@pytest.mark.parametrize(
    ("local", "moved_on", "expected"),
    [
        (1_767_225_600.7, 0, 1_767_225_600.7),  # agrees with the server within a second: the local clock, finer
        (1_767_225_600.7 - 3600, 10, 1_767_225_610.5),  # an hour behind: the server's time, moved on by 10 s
        (1_767_225_600.7 + 3600, 10, 1_767_225_610.5),  # an hour ahead: the same
    ],
)
def test_the_local_clock_is_used_only_while_it_agrees_with_dynamodbs(
    local: float, moved_on: float, expected: float
) -> None:
    events, elapsed = Events(), [100.0]
    clock = ServerClock(SimpleNamespace(meta=SimpleNamespace(events=events)), lambda: local, lambda: elapsed[0])
    assert clock() == local, "before any answer, the local clock is all there is"
    answered(events, "Thu, 01 Jan 2026 00:00:00 GMT")  # 1_767_225_600
    elapsed[0] += moved_on
    assert clock() == pytest.approx(expected)
